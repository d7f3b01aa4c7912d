package ai.sonia.openclaw.catalog;

import java.util.List;
import java.util.StringJoiner;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;

import ai.sonia.options.v1.FieldContract;
import ai.sonia.options.v1.OptionsProto;
import ai.sonia.runtime.errors.DomainException;

/**
 * Turns a call's JSON arguments into the tool's argument message and checks them against the same
 * contract the JSON Schema is generated from: unknown fields, types, required fields, bounds.
 */
public final class ToolArguments {

    /** Parses and validates; throws {@link DomainException} naming the field. */
    @SuppressWarnings("unchecked")
    public static <M extends Message> M parse(Struct arguments, M prototype) {
        final Message.Builder builder = prototype.newBuilderForType();
        for (String key : arguments.getFieldsMap().keySet()) {
            final Descriptor type = prototype.getDescriptorForType();
            if (type.findFieldByName(key) == null && !jsonNames(type).contains(key)) {
                // A name from another tool's world (a seed's shell.run {"command": "ls -l"}) is not guessed at:
                // the answer names the shape this tool takes.
                throw DomainException.invalidArgument("arguments." + key, "not an argument of " + toolName(type)
                                                                          + "; expected " + shape(type));
            }
        }
        try {
            JsonFormat.parser().merge(JsonFormat.printer().print(arguments), builder);
        } catch (InvalidProtocolBufferException e) {
            throw DomainException.invalidArgument("arguments", e.getMessage());
        }
        final M message = (M) builder.build();
        validate(message);
        return message;
    }

    private static List<String> jsonNames(Descriptor type) {
        return type.getFields().stream().map(FieldDescriptor::getJsonName).toList();
    }

    private static String toolName(Descriptor type) {
        final String name = type.getOptions().getExtension(OptionsProto.tool).getName();
        return name.isEmpty() ? type.getName() : name;
    }

    /** The arguments a tool takes, as JSON: {@code {"argv": [string] (required), "stdin": string}}. */
    static String shape(Descriptor type) {
        final StringJoiner fields = new StringJoiner(", ", "{", "}");
        for (FieldDescriptor field : type.getFields()) {
            final String kind = switch (field.getJavaType()) {
                case STRING, BYTE_STRING, ENUM -> "string";
                case INT, LONG -> "integer";
                case FLOAT, DOUBLE -> "number";
                case BOOLEAN -> "boolean";
                case MESSAGE -> "object";
            };
            fields.add('"' + field.getName() + "\": " + (field.isRepeated() && !field.isMapField() ? '[' + kind + ']' : kind)
                       + (ai.sonia.codegen.JsonSchemas.isRequired(field) ? " (required)" : ""));
        }
        return fields.toString();
    }

    private static void validate(Message message) {
        for (FieldDescriptor field : message.getDescriptorForType().getFields()) {
            final String name = "arguments." + field.getName();
            final boolean present = field.isRepeated() ? message.getRepeatedFieldCount(field) > 0
                                                       : message.hasField(field);
            if (ai.sonia.codegen.JsonSchemas.isRequired(field) && !present) {
                throw DomainException.invalidArgument(name, "is required");
            }
            final FieldContract contract = field.getOptions().getExtension(OptionsProto.field);
            if (field.isRepeated() && !field.isMapField()) {
                final int count = message.getRepeatedFieldCount(field);
                if (contract.getMaxLength() > 0 && count > contract.getMaxLength()) {
                    throw DomainException.invalidArgument(name, count + " items (expected: <= "
                                                              + contract.getMaxLength() + ')');
                }
                continue;
            }
            if (!present || field.isMapField()) {
                continue;
            }
            final Object value = message.getField(field);
            if (value instanceof String s && contract.getMaxLength() > 0 && s.length() > contract.getMaxLength()) {
                throw DomainException.invalidArgument(name, s.length() + " characters (expected: <= "
                                                          + contract.getMaxLength() + ')');
            }
            if (value instanceof Number n && (contract.getMinimum() != 0 || contract.getMaximum() != 0)) {
                final double d = n.doubleValue();
                if (d < contract.getMinimum() || d > contract.getMaximum()) {
                    throw DomainException.invalidArgument(name, n + " (expected: " + (long) contract.getMinimum()
                                                              + ".." + (long) contract.getMaximum() + ')');
                }
            }
        }
    }

    private ToolArguments() {}
}

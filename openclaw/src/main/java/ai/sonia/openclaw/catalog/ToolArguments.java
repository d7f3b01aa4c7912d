package ai.sonia.openclaw.catalog;

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
        try {
            JsonFormat.parser().merge(JsonFormat.printer().print(arguments), builder);
        } catch (InvalidProtocolBufferException e) {
            throw DomainException.invalidArgument("arguments", e.getMessage());
        }
        final M message = (M) builder.build();
        validate(message);
        return message;
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

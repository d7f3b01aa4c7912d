package ai.sonia.openclaw.catalog;

import java.util.List;

import com.google.api.FieldBehavior;
import com.google.api.FieldBehaviorProto;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;

import ai.sonia.options.v1.FieldContract;
import ai.sonia.options.v1.OptionsProto;
import ai.sonia.options.v1.ToolContract;

/**
 * Turns a message descriptor into a JSON Schema (draft 2020-12) for function calling: proto field
 * names, types, {@code required} from {@code google.api.field_behavior = REQUIRED}, descriptions and
 * bounds from {@code (sonia.options.v1.field)}, and {@code additionalProperties: false}. Output
 * depends only on the descriptor and follows field order, so it is deterministic. It reads nothing
 * but descriptors, so it can move to {@code codegen/} as it is.
 */
public final class JsonSchemaGenerator {

    static final String DIALECT = "https://json-schema.org/draft/2020-12/schema";

    /** The schema of a tool's argument message, titled with the tool's name. */
    public static Struct schemaOf(Descriptor message) {
        final Struct.Builder schema = Struct.newBuilder();
        schema.putFields("$schema", string(DIALECT));
        final ToolContract tool = message.getOptions().getExtension(OptionsProto.tool);
        if (!tool.getName().isEmpty()) {
            schema.putFields("title", string(tool.getName()));
            schema.putFields("description", string(tool.getDescription()));
        }
        objectInto(message, schema);
        return schema.build();
    }

    private static void objectInto(Descriptor message, Struct.Builder schema) {
        schema.putFields("type", string("object"));
        final Struct.Builder properties = Struct.newBuilder();
        final ListValue.Builder required = ListValue.newBuilder();
        for (FieldDescriptor field : message.getFields()) {
            properties.putFields(field.getName(), Value.newBuilder().setStructValue(fieldSchema(field)).build());
            if (isRequired(field)) {
                required.addValues(string(field.getName()));
            }
        }
        schema.putFields("properties", Value.newBuilder().setStructValue(properties).build());
        if (required.getValuesCount() > 0) {
            schema.putFields("required", Value.newBuilder().setListValue(required).build());
        }
        schema.putFields("additionalProperties", Value.newBuilder().setBoolValue(false).build());
    }

    /** True when the field carries {@code google.api.field_behavior = REQUIRED}. */
    public static boolean isRequired(FieldDescriptor field) {
        final List<FieldBehavior> behaviors = field.getOptions().getExtension(FieldBehaviorProto.fieldBehavior);
        return behaviors.contains(FieldBehavior.REQUIRED);
    }

    private static Struct fieldSchema(FieldDescriptor field) {
        final FieldContract contract = field.getOptions().getExtension(OptionsProto.field);
        final Struct.Builder schema = Struct.newBuilder();
        if (field.isMapField()) {
            final FieldDescriptor valueField = field.getMessageType().findFieldByName("value");
            schema.putFields("type", string("object"));
            schema.putFields("additionalProperties",
                             Value.newBuilder().setStructValue(singleSchema(valueField, FieldContract.getDefaultInstance()))
                                  .build());
        } else if (field.isRepeated()) {
            schema.putFields("type", string("array"));
            schema.putFields("items", Value.newBuilder().setStructValue(singleSchema(field, contract)).build());
            if (contract.getMaxLength() > 0) {
                schema.putFields("maxItems", number(contract.getMaxLength()));
            }
        } else {
            schema.putAllFields(singleSchema(field, contract).getFieldsMap());
            if (field.getJavaType() == FieldDescriptor.JavaType.STRING && contract.getMaxLength() > 0) {
                schema.putFields("maxLength", number(contract.getMaxLength()));
            }
        }
        if (!contract.getDescription().isEmpty()) {
            schema.putFields("description", string(contract.getDescription()));
        }
        return schema.build();
    }

    private static Struct singleSchema(FieldDescriptor field, FieldContract contract) {
        final Struct.Builder schema = Struct.newBuilder();
        switch (field.getJavaType()) {
            case STRING -> schema.putFields("type", string("string"));
            case BOOLEAN -> schema.putFields("type", string("boolean"));
            case INT, LONG -> schema.putFields("type", string("integer"));
            case FLOAT, DOUBLE -> schema.putFields("type", string("number"));
            case BYTE_STRING -> {
                schema.putFields("type", string("string"));
                schema.putFields("contentEncoding", string("base64"));
            }
            case ENUM -> {
                schema.putFields("type", string("string"));
                final ListValue.Builder names = ListValue.newBuilder();
                for (EnumValueDescriptor value : field.getEnumType().getValues()) {
                    names.addValues(string(value.getName()));
                }
                schema.putFields("enum", Value.newBuilder().setListValue(names).build());
            }
            case MESSAGE -> objectInto(field.getMessageType(), schema);
        }
        if (isNumeric(field) && (contract.getMinimum() != 0 || contract.getMaximum() != 0)) {
            schema.putFields("minimum", number(contract.getMinimum()));
            schema.putFields("maximum", number(contract.getMaximum()));
        }
        return schema.build();
    }

    static boolean isNumeric(FieldDescriptor field) {
        return switch (field.getJavaType()) {
            case INT, LONG, FLOAT, DOUBLE -> true;
            default -> false;
        };
    }

    private static Value string(String s) {
        return Value.newBuilder().setStringValue(s).build();
    }

    private static Value number(double n) {
        return Value.newBuilder().setNumberValue(n).build();
    }

    private JsonSchemaGenerator() {}
}

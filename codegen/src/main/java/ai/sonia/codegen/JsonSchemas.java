package ai.sonia.codegen;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.google.api.FieldBehavior;
import com.google.api.FieldBehaviorProto;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import ai.sonia.options.v1.FieldContract;
import ai.sonia.options.v1.OptionsProto;

/**
 * JSON Schemas (draft 2020-12) of proto messages, as their proto JSON looks at the REST edge (proto
 * field names, enums as names, 64-bit integers as strings or numbers, well-known types as their JSON
 * forms). Required fields come from {@code google.api.field_behavior = REQUIRED}; descriptions and
 * bounds from {@code (sonia.options.v1.field)}; output-only fields are left out of input schemas.
 * Deterministic: the same descriptors always give the same bytes.
 */
public final class JsonSchemas {

    /** Whether a schema describes what a client sends (output-only fields dropped) or receives. */
    public enum Direction { INPUT, OUTPUT }

    private static final JsonNodeFactory json = JsonNodeFactory.instance;
    private static final String DRAFT = "https://json-schema.org/draft/2020-12/schema";

    private final Direction direction;
    private final String refPrefix;
    private final String nameSuffix;
    private final Map<String, ObjectNode> definitions = new TreeMap<>();

    /**
     * @param refPrefix where nested message schemas live: {@code "#/$defs/"} for a standalone schema,
     *                  {@code "#/components/schemas/"} inside OpenAPI
     */
    public JsonSchemas(Direction direction, String refPrefix) {
        this(direction, refPrefix, "");
    }

    /**
     * @param nameSuffix appended to definition names, so input and output schemas of the same message can
     *                   live side by side (OpenAPI components {@code X} and {@code X.Input})
     */
    public JsonSchemas(Direction direction, String refPrefix, String nameSuffix) {
        this.direction = direction;
        this.refPrefix = refPrefix;
        this.nameSuffix = nameSuffix;
    }

    /** The name a message's schema has among the definitions. */
    public String definitionName(Descriptor message) {
        return message.getFullName() + nameSuffix;
    }

    /** A reference to a message's schema, defining it if needed. */
    public ObjectNode reference(Descriptor message) {
        return messageReference(message);
    }

    /** A standalone schema document of a message, with its nested messages under {@code $defs}. */
    public static ObjectNode standalone(Descriptor message, Direction direction) {
        final JsonSchemas schemas = new JsonSchemas(direction, "#/$defs/");
        final ObjectNode root = json.objectNode();
        root.put("$schema", DRAFT);
        root.put("$id", "https://sonia.ai/schemas/" + message.getFullName() + ".json");
        root.setAll(schemas.messageSchema(message));
        if (!schemas.definitions.isEmpty()) {
            final ObjectNode defs = root.putObject("$defs");
            schemas.definitions.forEach(defs::set);
        }
        return root;
    }

    /**
     * The schema of an argument message as an LLM needs it for function calling: self-contained, titled
     * and described by the message's {@code (sonia.options.v1.tool)} when it has one.
     */
    public static ObjectNode toolParameters(Descriptor arguments) {
        final ObjectNode schema = standalone(arguments, Direction.INPUT);
        schema.remove("$id");
        if (arguments.getOptions().hasExtension(OptionsProto.tool)) {
            schema.put("title", arguments.getOptions().getExtension(OptionsProto.tool).getName());
            schema.put("description", arguments.getOptions().getExtension(OptionsProto.tool).getDescription());
        }
        return schema;
    }

    /** Whether a field is {@code google.api.field_behavior = REQUIRED}. */
    public static boolean isRequired(FieldDescriptor field) {
        return field.getOptions().getExtension(FieldBehaviorProto.fieldBehavior).contains(FieldBehavior.REQUIRED);
    }

    /** Every nested message schema referenced so far, by full name. */
    public Map<String, ObjectNode> definitions() {
        return definitions;
    }

    /** The inline schema of a message (nested messages become references). */
    public ObjectNode messageSchema(Descriptor message) {
        final ObjectNode schema = json.objectNode();
        schema.put("type", "object");
        schema.put("title", message.getName());
        final ObjectNode properties = schema.putObject("properties");
        final ArrayNode required = json.arrayNode();
        for (FieldDescriptor field : message.getFields()) {
            final List<FieldBehavior> behaviors = field.getOptions().getExtension(FieldBehaviorProto.fieldBehavior);
            if (direction == Direction.INPUT && behaviors.contains(FieldBehavior.OUTPUT_ONLY)) {
                continue;
            }
            properties.set(field.getName(), fieldSchema(field));
            if (direction == Direction.INPUT && isRequired(field)) {
                required.add(field.getName());
            }
        }
        if (!required.isEmpty()) {
            schema.set("required", required);
        }
        schema.put("additionalProperties", false);
        return schema;
    }

    /** The schema of one field, with its documentation and bounds. */
    public ObjectNode fieldSchema(FieldDescriptor field) {
        final FieldContract contract = field.getOptions().getExtension(OptionsProto.field);
        final ObjectNode schema;
        if (field.isMapField()) {
            schema = json.objectNode();
            schema.put("type", "object");
            schema.set("additionalProperties", valueSchema(field.getMessageType().findFieldByName("value")));
        } else if (field.isRepeated()) {
            schema = json.objectNode();
            schema.put("type", "array");
            schema.set("items", valueSchema(field));
            if (contract.getMaxLength() > 0) {
                schema.put("maxItems", contract.getMaxLength());
            }
        } else {
            schema = valueSchema(field);
            if (contract.getMaxLength() > 0 && field.getJavaType() == FieldDescriptor.JavaType.STRING) {
                schema.put("maxLength", contract.getMaxLength());
            }
        }
        if (!contract.getDescription().isEmpty()) {
            schema.put("description", contract.getDescription());
        }
        if (contract.getMinimum() != 0 || contract.getMaximum() != 0) {
            final ObjectNode target = field.isRepeated() ? (ObjectNode) schema.get("items") : schema;
            putNumber(target, "minimum", contract.getMinimum());
            putNumber(target, "maximum", contract.getMaximum());
        }
        return schema;
    }

    private ObjectNode valueSchema(FieldDescriptor field) {
        final ObjectNode schema = json.objectNode();
        switch (field.getType()) {
            case STRING -> schema.put("type", "string");
            case BOOL -> schema.put("type", "boolean");
            case INT32, SINT32, SFIXED32, UINT32, FIXED32 -> schema.put("type", "integer");
            case INT64, SINT64, SFIXED64, UINT64, FIXED64 -> {
                // proto3 JSON prints 64-bit integers as strings and parses both forms.
                schema.putArray("type").add("integer").add("string");
                schema.put("format", "int64");
            }
            case FLOAT, DOUBLE -> schema.put("type", "number");
            case BYTES -> {
                schema.put("type", "string");
                schema.put("contentEncoding", "base64");
            }
            case ENUM -> enumSchema(schema, field.getEnumType());
            case MESSAGE, GROUP -> {
                return messageReference(field.getMessageType());
            }
        }
        return schema;
    }

    private static void enumSchema(ObjectNode schema, EnumDescriptor type) {
        schema.put("type", "string");
        final ArrayNode values = schema.putArray("enum");
        for (EnumValueDescriptor value : type.getValues()) {
            values.add(value.getName());
        }
    }

    private ObjectNode messageReference(Descriptor type) {
        final ObjectNode wellKnown = wellKnown(type.getFullName());
        if (wellKnown != null) {
            return wellKnown;
        }
        final String name = definitionName(type);
        if (!definitions.containsKey(name)) {
            definitions.put(name, json.objectNode()); // placeholder: stops recursion
            definitions.put(name, messageSchema(type));
        }
        final ObjectNode ref = json.objectNode();
        ref.put("$ref", refPrefix + name);
        return ref;
    }

    private static ObjectNode wellKnown(String fullName) {
        final ObjectNode schema = json.objectNode();
        switch (fullName) {
            case "google.protobuf.Timestamp" -> {
                schema.put("type", "string");
                schema.put("format", "date-time");
            }
            case "google.protobuf.Duration" -> {
                schema.put("type", "string");
                schema.put("pattern", "^-?[0-9]+(\\.[0-9]{1,9})?s$");
            }
            case "google.protobuf.Struct" -> schema.put("type", "object");
            case "google.protobuf.ListValue" -> schema.put("type", "array");
            case "google.protobuf.Value" -> {
                return schema; // any JSON value
            }
            case "google.protobuf.StringValue", "google.protobuf.BytesValue" -> schema.put("type", "string");
            case "google.protobuf.BoolValue" -> schema.put("type", "boolean");
            case "google.protobuf.Int32Value", "google.protobuf.UInt32Value" -> schema.put("type", "integer");
            case "google.protobuf.Int64Value", "google.protobuf.UInt64Value" ->
                    schema.putArray("type").add("integer").add("string");
            case "google.protobuf.FloatValue", "google.protobuf.DoubleValue" -> schema.put("type", "number");
            case "google.protobuf.Empty" -> {
                schema.put("type", "object");
                schema.put("additionalProperties", false);
            }
            default -> {
                return null;
            }
        }
        return schema;
    }

    private static void putNumber(ObjectNode node, String key, double value) {
        if (value == Math.rint(value)) {
            node.put(key, (long) value);
        } else {
            node.put(key, value);
        }
    }
}

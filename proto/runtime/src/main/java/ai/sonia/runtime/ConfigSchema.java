package ai.sonia.runtime;

import static java.util.Objects.requireNonNull;

import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import com.linecorp.armeria.common.annotation.Nullable;

/**
 * The typed shape of (a section of) {@code config/sonia.json}: which keys exist, what type each holds and what
 * it means. Each service declares its section once, as a record whose components are its keys ({@link ConfigKey},
 * {@link #of}); {@link ServiceModule#configSchema()} is that record's schema, and
 * {@link StackConfig#service(String, Class)} binds the section to it. {@link StackConfig} checks the whole file against them at load, refusing an unknown key with the nearest
 * known one, and applies the one environment rule: every scalar key outside maps and lists can be set by
 * {@code SONIA_<PATH>}, its path in upper snake case ({@code services.memory.port} is
 * {@code SONIA_MEMORY_PORT}: the {@code services} segment is dropped; {@code portOffset} is
 * {@code SONIA_PORT_OFFSET}). The environment wins over the file, the file over the default.
 */
public final class ConfigSchema {

    /** What a key holds. */
    public enum Type {
        OBJECT("object"), MAP("map"), LIST("list"), STRING("string"), INTEGER("integer"), NUMBER("number"),
        BOOLEAN("boolean"), STRINGS("list of strings");

        private final String label;

        Type(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    private final Type type;
    private final String description;
    @Nullable
    private final String defaultValue;
    private final Map<String, ConfigSchema> fields = new LinkedHashMap<>();
    private boolean open;
    @Nullable
    private final ConfigSchema element;
    /** The value filled in when the key is absent (a record key's {@link ConfigKey#def()}), or null. */
    @Nullable
    private JsonNode applied;
    /** A second environment variable ({@link ConfigKey#env()}), or null. */
    @Nullable
    private String alias;

    private ConfigSchema(Type type, String description, @Nullable String defaultValue,
                         @Nullable ConfigSchema element) {
        this.type = type;
        this.description = requireNonNull(description, "description");
        this.defaultValue = defaultValue;
        this.element = element;
    }

    /** An object with the keys added by {@link #field}. */
    static ConfigSchema object(String description) {
        return new ConfigSchema(Type.OBJECT, description, null, null);
    }

    /** An object whose declared keys are checked and whose other keys are let through unchecked. */
    static ConfigSchema open(String description) {
        final ConfigSchema schema = object(description);
        schema.open = true;
        return schema;
    }

    /** An object whose keys are free (tenant names, aliases, header names), each value of the given shape. */
    private static ConfigSchema map(String description, ConfigSchema value) {
        return new ConfigSchema(Type.MAP, description, null, requireNonNull(value, "value"));
    }

    /** An array of the given shape. */
    private static ConfigSchema list(String description, ConfigSchema element) {
        return new ConfigSchema(Type.LIST, description, null, requireNonNull(element, "element"));
    }

    private static ConfigSchema scalar(Type type, String description, @Nullable Object defaultValue) {
        return new ConfigSchema(type, description, defaultValue == null ? null : String.valueOf(defaultValue), null);
    }

    /** Adds a key to an object; returns this. */
    ConfigSchema field(String name, ConfigSchema schema) {
        if (type != Type.OBJECT) {
            throw new IllegalStateException("field() on a " + type.label());
        }
        if (fields.putIfAbsent(requireNonNull(name, "name"), requireNonNull(schema, "schema")) != null) {
            throw new IllegalStateException("duplicate key: " + name);
        }
        return this;
    }

    /**
     * The schema of a config record: one key per component, named, typed and described by it ({@link ConfigKey});
     * a component of a record type is a nested object, {@code List<String>} a list of strings, {@code List<R>} a
     * list of objects, {@code Map<String, V>} a map.
     */
    public static ConfigSchema of(Class<? extends Record> type) {
        final ConfigKey section = type.getAnnotation(ConfigKey.class);
        return record(type, section == null ? type.getSimpleName() : section.value());
    }

    private static ConfigSchema record(Class<?> type, String description) {
        final ConfigSchema schema = object(description);
        for (RecordComponent component : type.getRecordComponents()) {
            final ConfigKey key = component.getAnnotation(ConfigKey.class);
            if (key == null) {
                throw new IllegalStateException(type.getName() + '.' + component.getName() + ": no @ConfigKey");
            }
            // A key Java cannot name ("default") is renamed on the component the Jackson way.
            final JsonProperty renamed = component.getAccessor().getAnnotation(JsonProperty.class);
            schema.field(renamed != null && !renamed.value().isEmpty() ? renamed.value() : component.getName(),
                         shape(component.getGenericType(), key.value(), key));
        }
        return schema;
    }

    private static ConfigSchema shape(java.lang.reflect.Type generic, String description, @Nullable ConfigKey key) {
        final Class<?> raw = generic instanceof ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) generic;
        final String element = key == null || key.element().isEmpty() ? description : key.element();
        if (raw.isRecord()) {
            final ConfigKey own = raw.getAnnotation(ConfigKey.class);
            return record(raw, own != null && (key == null || description.isEmpty()) ? own.value() : description);
        }
        if (raw == List.class || raw == Map.class) {
            final java.lang.reflect.Type[] args = ((ParameterizedType) generic).getActualTypeArguments();
            final java.lang.reflect.Type value = args[args.length - 1];
            if (raw == Map.class) {
                return map(description, shape(value, element, null));
            }
            if (value != String.class) {
                return list(description, shape(value, element, null));
            }
        }
        final Type type = raw == List.class ? Type.STRINGS
                          : raw == String.class ? Type.STRING
                          : raw == int.class || raw == Integer.class || raw == long.class || raw == Long.class
                            ? Type.INTEGER
                          : raw == double.class || raw == Double.class ? Type.NUMBER
                          : raw == boolean.class || raw == Boolean.class ? Type.BOOLEAN : null;
        if (type == null) {
            throw new IllegalStateException("a config key cannot be a " + generic);
        }
        final String def = key == null ? "" : key.def();
        final String shown = key == null ? "" : key.shown();
        final ConfigSchema schema = scalar(type, description, !shown.isEmpty() ? shown : def.isEmpty() ? null : def);
        if (!def.isEmpty()) {
            schema.applied = schema.parse("default of " + description, def);
        }
        schema.alias = key == null || key.env().isEmpty() ? null : key.env();
        return schema;
    }

    /** A copy of this scalar whose default the reference shows as {@code shown} (a service's own port). */
    ConfigSchema shown(String shown) {
        final ConfigSchema copy = new ConfigSchema(type, description, shown, element);
        copy.applied = applied;
        copy.alias = alias;
        return copy;
    }

    /** A copy of {@code node} with every absent key that has a default filled in, nested objects made. */
    JsonNode withDefaults(@Nullable JsonNode node) {
        final boolean absent = node == null || node.isNull() || node.isMissingNode();
        switch (type) {
            case OBJECT -> {
                final ObjectNode out = absent ? JsonNodeFactory.instance.objectNode() : ((ObjectNode) node).deepCopy();
                fields.forEach((name, field) -> {
                    final JsonNode value = out.get(name);
                    if ((value == null || value.isNull()) && field.applied != null) {
                        out.set(name, field.applied.deepCopy());
                    } else if (value != null || field.type == Type.OBJECT) {
                        out.set(name, field.withDefaults(value));
                    }
                });
                return out;
            }
            case LIST, MAP -> {
                if (absent) {
                    return node;
                }
                final JsonNode out = node.deepCopy();
                if (out instanceof ObjectNode object) {
                    object.fields().forEachRemaining(e -> e.setValue(element.withDefaults(e.getValue())));
                } else {
                    final var array = (com.fasterxml.jackson.databind.node.ArrayNode) out;
                    for (int i = 0; i < array.size(); i++) {
                        array.set(i, element.withDefaults(array.get(i)));
                    }
                }
                return out;
            }
            default -> {
                return absent && applied != null ? applied.deepCopy() : node;
            }
        }
    }

    public Type type() {
        return type;
    }

    public String description() {
        return description;
    }

    @Nullable
    public String defaultValue() {
        return defaultValue;
    }

    /** The keys of an object, in declaration order. */
    public Map<String, ConfigSchema> fields() {
        return Collections.unmodifiableMap(fields);
    }

    /** The environment variables that set the key at {@code path}: the one rule's, then an alias if declared. */
    public List<String> variables(String path) {
        return alias == null ? List.of(envVariable(path)) : List.of(envVariable(path), alias);
    }

    /** The value shape of a map, or the element shape of a list; null otherwise. */
    @Nullable
    public ConfigSchema element() {
        return element;
    }

    /** Checks a value at {@code path}; adds one sentence per problem. */
    public void check(String path, JsonNode node, List<String> problems) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return;
        }
        switch (type) {
            case OBJECT -> {
                if (!node.isObject()) {
                    problems.add(mismatch(path, node));
                    return;
                }
                final Iterator<Map.Entry<String, JsonNode>> it = node.fields();
                while (it.hasNext()) {
                    final Map.Entry<String, JsonNode> e = it.next();
                    final String child = join(path, e.getKey());
                    final ConfigSchema known = fields.get(e.getKey());
                    if (known == null) {
                        if (open) {
                            continue;
                        }
                        problems.add(unknown(child, e.getKey()));
                    } else {
                        known.check(child, e.getValue(), problems);
                    }
                }
            }
            case MAP -> {
                if (!node.isObject()) {
                    problems.add(mismatch(path, node));
                    return;
                }
                node.fields().forEachRemaining(e -> element.check(join(path, e.getKey()), e.getValue(), problems));
            }
            case LIST -> {
                if (!node.isArray()) {
                    problems.add(mismatch(path, node));
                    return;
                }
                for (int i = 0; i < node.size(); i++) {
                    element.check(path + '[' + i + ']', node.get(i), problems);
                }
            }
            case STRINGS -> {
                if (!node.isArray()) {
                    problems.add(mismatch(path, node));
                    return;
                }
                node.forEach(item -> {
                    if (!item.isTextual()) {
                        problems.add(path + ": expected a list of strings, found " + item);
                    }
                });
            }
            case STRING -> {
                if (!node.isTextual()) {
                    problems.add(mismatch(path, node));
                }
            }
            case INTEGER -> {
                if (!node.isIntegralNumber()) {
                    problems.add(mismatch(path, node));
                }
            }
            case NUMBER -> {
                if (!node.isNumber()) {
                    problems.add(mismatch(path, node));
                }
            }
            case BOOLEAN -> {
                if (!node.isBoolean()) {
                    problems.add(mismatch(path, node));
                }
            }
        }
    }

    /**
     * Visits every scalar key reachable through objects only (not inside maps or lists), with its dotted path:
     * the keys the environment can set.
     */
    public void forEachScalar(String path, BiConsumer<String, ConfigSchema> visitor) {
        if (type == Type.OBJECT) {
            fields.forEach((name, schema) -> schema.forEachScalar(join(path, name), visitor));
        } else if (type != Type.MAP && type != Type.LIST) {
            visitor.accept(path, this);
        }
    }

    /** The value of an environment variable as JSON of this (scalar) type. */
    JsonNode parse(String variable, String value) {
        final String text = value.trim();
        final JsonNodeFactory json = JsonNodeFactory.instance;
        try {
            return switch (type) {
                case STRING -> json.textNode(value);
                case INTEGER -> json.numberNode(Long.parseLong(text));
                case NUMBER -> json.numberNode(Double.parseDouble(text));
                case BOOLEAN -> json.booleanNode(switch (text.toLowerCase(Locale.ROOT)) {
                    case "true", "on", "yes", "1" -> true;
                    case "false", "off", "no", "0" -> false;
                    default -> throw new NumberFormatException();
                });
                case STRINGS -> {
                    final var array = json.arrayNode();
                    for (String item : value.split(",")) {
                        if (!item.isBlank()) {
                            array.add(item.trim());
                        }
                    }
                    yield array;
                }
                default -> throw new IllegalStateException("not a scalar: " + type);
            };
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(variable + ": " + value + " (expected: " + type.label() + ')', e);
        }
    }

    /** The environment variable of a dotted path: {@code services.memory.embedding.model} → SONIA_MEMORY_EMBEDDING_MODEL. */
    public static String envVariable(String path) {
        final String trimmed = path.startsWith("services.") ? path.substring("services.".length()) : path;
        final StringBuilder out = new StringBuilder("SONIA_");
        for (int i = 0; i < trimmed.length(); i++) {
            final char c = trimmed.charAt(i);
            if (c == '.') {
                out.append('_');
            } else if (Character.isUpperCase(c)) {
                out.append('_').append(c);
            } else {
                out.append(Character.toUpperCase(c));
            }
        }
        return out.toString().toUpperCase(Locale.ROOT);
    }

    /** Sets a dotted path in a tree, creating objects on the way. */
    static void set(ObjectNode root, String path, JsonNode value) {
        final String[] parts = path.split("\\.");
        ObjectNode node = root;
        for (int i = 0; i < parts.length - 1; i++) {
            final JsonNode next = node.get(parts[i]);
            node = next instanceof ObjectNode object ? object : node.putObject(parts[i]);
        }
        node.set(parts[parts.length - 1], value);
    }

    private String mismatch(String path, JsonNode node) {
        return path + ": expected " + (type == Type.INTEGER ? "an integer" : type == Type.OBJECT ? "an object" : "a "
                                                                                                                + type.label())
               + ", found " + abbreviate(node.toString());
    }

    private String unknown(String path, String key) {
        if (fields.isEmpty()) {
            return path + ": unknown key (this section has no keys)";
        }
        // Candidates: this object's keys, and one level down (a seed's "api_gateway" is services.gateway).
        final List<String> candidates = new ArrayList<>(fields.keySet());
        fields.forEach((name, child) -> {
            if (child.type == Type.OBJECT) {
                child.fields.keySet().forEach(grandchild -> candidates.add(name + '.' + grandchild));
            }
        });
        final String nearest = nearest(key, candidates);
        final String known = " (known here: " + String.join(", ", fields.keySet()) + ')';
        final String last = nearest.substring(nearest.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
        final String lower = key.toLowerCase(Locale.ROOT);
        final boolean close = distance(lower, last) <= Math.max(2, last.length() / 3)
                              || (last.length() >= 4 && lower.contains(last));
        return path + ": unknown key; " + (close ? "did you mean \"" + nearest + "\"?"
                                               : "the nearest known key is \"" + nearest + '"') + known;
    }

    /**
     * The candidate closest to {@code key}: one the key contains (the longest) first, then by edit distance
     * to the candidate's last segment (case-insensitive); ties to the first declared.
     */
    static String nearest(String key, List<String> candidates) {
        final String lower = key.toLowerCase(Locale.ROOT);
        String best = candidates.get(0);
        int bestScore = Integer.MAX_VALUE;
        for (String candidate : candidates) {
            final String last = candidate.substring(candidate.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
            final int score = last.length() >= 4 && lower.contains(last) && !lower.equals(last)
                              ? -last.length() : distance(lower, last) + (candidate.indexOf('.') >= 0 ? 1 : 0);
            if (score < bestScore) {
                best = candidate;
                bestScore = score;
            }
        }
        return best;
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                final int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                current[j] = Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            final int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    private static String join(String path, String key) {
        return path.isEmpty() ? key : path + '.' + key;
    }

    private static String abbreviate(String text) {
        return text.length() <= 60 ? text : text.substring(0, 57) + "...";
    }
}

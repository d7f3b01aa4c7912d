package ai.sonia.evaos.domain;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;

/**
 * One spelling for every JSON value, so equal actions hash equally: object keys sorted by code point,
 * no whitespace, numbers in their shortest plain decimal form ({@code 10.0} is {@code 10}), strings
 * with the minimal JSON escapes.
 */
public final class CanonicalJson {

    /** The canonical text of an object. */
    public static String of(Struct struct) {
        final StringBuilder out = new StringBuilder();
        object(struct, out);
        return out.toString();
    }

    /**
     * The action hash: SHA-256, hex, of {@code {"arguments":...,"tenant":...,"tool":...,"working_directory":...}}
     * in canonical form. The tenant is part of what runs (each tenant has its own workspace), so one
     * tenant's approval can never be bound to another's action. The working directory "." and "" are
     * the same directory.
     */
    public static String actionHash(String tenant, String tool, Struct arguments, String workingDirectory) {
        final String cwd = workingDirectory.equals(".") || workingDirectory.equals("./") ? "" : workingDirectory;
        final Struct action = Struct.newBuilder()
                                    .putFields("arguments", Value.newBuilder().setStructValue(arguments).build())
                                    .putFields("tenant", Value.newBuilder().setStringValue(tenant).build())
                                    .putFields("tool", Value.newBuilder().setStringValue(tool).build())
                                    .putFields("working_directory", Value.newBuilder().setStringValue(cwd).build())
                                    .build();
        try {
            final byte[] digest = MessageDigest.getInstance("SHA-256")
                                               .digest(of(action).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is always present", e);
        }
    }

    private static void object(Struct struct, StringBuilder out) {
        out.append('{');
        boolean first = true;
        for (Map.Entry<String, Value> e : new TreeMap<>(struct.getFieldsMap()).entrySet()) {
            if (!first) {
                out.append(',');
            }
            first = false;
            string(e.getKey(), out);
            out.append(':');
            value(e.getValue(), out);
        }
        out.append('}');
    }

    private static void value(Value v, StringBuilder out) {
        switch (v.getKindCase()) {
            case STRUCT_VALUE -> object(v.getStructValue(), out);
            case LIST_VALUE -> list(v.getListValue(), out);
            case STRING_VALUE -> string(v.getStringValue(), out);
            case BOOL_VALUE -> out.append(v.getBoolValue());
            case NUMBER_VALUE -> out.append(number(v.getNumberValue()));
            case NULL_VALUE, KIND_NOT_SET -> out.append("null");
        }
    }

    private static void list(ListValue list, StringBuilder out) {
        out.append('[');
        for (int i = 0; i < list.getValuesCount(); i++) {
            if (i > 0) {
                out.append(',');
            }
            value(list.getValues(i), out);
        }
        out.append(']');
    }

    private static String number(double d) {
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            return "null";
        }
        if (d == 0) {
            return "0";
        }
        return BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
    }

    private static void string(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            final char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    private CanonicalJson() {}
}

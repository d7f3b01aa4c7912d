package ai.sonia.openclaw.tools;

import java.util.List;
import java.util.Map;

import com.google.protobuf.ListValue;
import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;

/** Builds Struct outputs from plain Java values (insertion order kept). */
final class Outputs {

    static Struct struct(Map<String, ?> fields) {
        final Struct.Builder b = Struct.newBuilder();
        fields.forEach((k, v) -> b.putFields(k, value(v)));
        return b.build();
    }

    static Value value(Object v) {
        if (v == null) {
            return Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();
        }
        if (v instanceof Value value) {
            return value;
        }
        if (v instanceof String s) {
            return Value.newBuilder().setStringValue(s).build();
        }
        if (v instanceof Boolean b) {
            return Value.newBuilder().setBoolValue(b).build();
        }
        if (v instanceof Number n) {
            return Value.newBuilder().setNumberValue(n.doubleValue()).build();
        }
        if (v instanceof Struct s) {
            return Value.newBuilder().setStructValue(s).build();
        }
        if (v instanceof Map<?, ?> m) {
            @SuppressWarnings("unchecked")
            final Map<String, ?> map = (Map<String, ?>) m;
            return Value.newBuilder().setStructValue(struct(map)).build();
        }
        if (v instanceof List<?> list) {
            final ListValue.Builder b = ListValue.newBuilder();
            list.forEach(e -> b.addValues(value(e)));
            return Value.newBuilder().setListValue(b).build();
        }
        return Value.newBuilder().setStringValue(v.toString()).build();
    }

    private Outputs() {}
}

package ai.sonia.codegen;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import ai.sonia.common.v1.Envelope;
import ai.sonia.common.v1.ErrorCode;
import ai.sonia.runtime.edge.ErrorMapping;

/** The JSON Schema of the REST envelope, with {@code error.code} limited to the contract's codes. */
public final class EnvelopeSchema {

    public static ObjectNode schema() {
        final ObjectNode schema = JsonSchemas.standalone(Envelope.getDescriptor(), JsonSchemas.Direction.OUTPUT);
        schema.put("description", "The standard response of every REST call of Sonia. ok=true carries data; "
                                  + "ok=false carries error, with the HTTP status that the gRPC code implies.");
        schema.putArray("required").add("ok").add("service").add("operation").add("correlation_id")
              .add("duration_ms");
        final ObjectNode code = (ObjectNode) schema.at("/$defs/sonia.common.v1.EnvelopeError/properties/code");
        final ArrayNode values = code.putArray("enum");
        for (ErrorCode c : ErrorCode.values()) {
            if (c != ErrorCode.ERROR_CODE_UNSPECIFIED && c != ErrorCode.UNRECOGNIZED) {
                values.add(ErrorMapping.wireName(c));
            }
        }
        return schema;
    }

    private EnvelopeSchema() {}
}

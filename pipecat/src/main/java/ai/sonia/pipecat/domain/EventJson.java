package ai.sonia.pipecat.domain;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;

import ai.sonia.pipecat.v1.SessionEvent;

/**
 * A session event as the contract's JSON, the same text everywhere it leaves the service: WebSocket frames and
 * published events (proto field names, no insignificant whitespace).
 */
public final class EventJson {

    private static final JsonFormat.Printer printer = JsonFormat.printer().preservingProtoFieldNames()
                                                                .omittingInsignificantWhitespace();

    /** The event's JSON. */
    public static String print(SessionEvent event) {
        try {
            return printer.print(event);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("cannot print event " + event.getSequence(), e);
        }
    }

    private EventJson() {}
}

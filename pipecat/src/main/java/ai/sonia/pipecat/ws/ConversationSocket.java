package ai.sonia.pipecat.ws;

import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import com.linecorp.armeria.common.websocket.WebSocket;
import com.linecorp.armeria.common.websocket.WebSocketCloseStatus;
import com.linecorp.armeria.common.websocket.WebSocketFrame;
import com.linecorp.armeria.common.websocket.WebSocketWriter;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.websocket.WebSocketServiceHandler;

import ai.sonia.pipecat.domain.CloseCode;
import ai.sonia.pipecat.domain.Conversation;
import ai.sonia.pipecat.domain.ConversationOutput;
import ai.sonia.pipecat.domain.Conversations;
import ai.sonia.pipecat.v1.ConverseRequest;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.runtime.Correlation;
import ai.sonia.runtime.auth.Principal;

/**
 * {@code /ws/{session_id}?last_sequence=N}: the connection attaches to the session at once and gets
 * the events after {@code N}. The handshake carries a token ({@code Authorization: Bearer} or
 * {@code ?access_token=}) and, from a browser, an allowed {@code Origin}; a session the token's principal
 * does not own closes with 4001, like an unknown one. Text frames carry a {@code ConverseRequest} or a
 * bare {@code SessionEvent} in proto JSON; binary frames carry 16 kHz mono PCM16 audio. Every server frame is a
 * {@code SessionEvent} in proto JSON (field names as in the proto; TTS audio base64 in {@code audio}), or
 * with {@code ?audio=binary} each TTS_AUDIO event without its audio followed by the audio as a binary frame.
 */
public final class ConversationSocket implements WebSocketServiceHandler {

    private static final JsonFormat.Parser parser = JsonFormat.parser();
    private static final JsonFormat.Printer printer = JsonFormat.printer().preservingProtoFieldNames()
                                                                .omittingInsignificantWhitespace();

    // A session delivers one event to all its sockets in a row on one thread: print it once, not once per socket.
    private static final ThreadLocal<Printed> lastPrinted = new ThreadLocal<>();

    private final Conversations conversations;

    public ConversationSocket(Conversations conversations) {
        this.conversations = conversations;
    }

    @Override
    public WebSocket handle(ServiceRequestContext ctx, WebSocket in) {
        final WebSocketWriter writer = WebSocket.streaming();
        final String correlationId = Correlation.of(ctx) != null ? Correlation.of(ctx) : Correlation.generate();
        final Output output = new Output(writer, "binary".equals(ctx.queryParam("audio")));
        // The AuthDecorator refused the handshake unless it proved a principal, so there is one.
        final Conversation conversation = conversations.newConversation(
                Principal.current(), output, ctx.remoteAddress().getAddress().getHostAddress(), correlationId);
        writer.whenComplete().handle((unused, cause) -> {
            conversation.closed();
            return null;
        });
        if (conversation.open()) {
            final String lastSequence = ctx.queryParam("last_sequence");
            long after = 0;
            boolean valid = true;
            if (lastSequence != null) {
                try {
                    after = Long.parseLong(lastSequence);
                } catch (NumberFormatException e) {
                    valid = false;
                }
            }
            if (valid) {
                conversation.attach(ctx.pathParam("session_id"), after);
            } else {
                conversation.malformed("last_sequence: " + lastSequence + " (expected: an integer)");
            }
        }
        in.subscribe(new Frames(conversation, writer));
        return writer;
    }

    /** Reads client frames in order. */
    private static final class Frames implements Subscriber<WebSocketFrame> {
        private final Conversation conversation;
        private final WebSocketWriter writer;

        Frames(Conversation conversation, WebSocketWriter writer) {
            this.conversation = conversation;
            this.writer = writer;
        }

        @Override
        public void onSubscribe(Subscription subscription) {
            subscription.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(WebSocketFrame frame) {
            switch (frame.type()) {
                case TEXT -> text(frame.text());
                case BINARY -> conversation.audio(frame.array());
                default -> {
                    // Ping, pong and close are handled by Armeria.
                }
            }
        }

        private void text(String json) {
            final ConverseRequest.Builder request = ConverseRequest.newBuilder();
            try {
                parser.merge(json, request);
                conversation.receive(request.build());
                return;
            } catch (InvalidProtocolBufferException notARequest) {
                // Maybe a bare event, the short form.
            }
            final SessionEvent.Builder event = SessionEvent.newBuilder();
            try {
                parser.merge(json, event);
            } catch (InvalidProtocolBufferException e) {
                conversation.malformed("not a ConverseRequest or SessionEvent in proto JSON: " + e.getMessage());
                return;
            }
            conversation.event(event.build());
        }

        // The client closed or vanished: answer its close and let the conversation go.
        @Override
        public void onError(Throwable t) {
            conversation.closed();
            writer.close();
        }

        @Override
        public void onComplete() {
            conversation.closed();
            writer.close();
        }
    }

    /** Writes events as JSON text frames and ends with a close frame. */
    private static final class Output implements ConversationOutput {
        private final WebSocketWriter writer;
        private final boolean binaryAudio;

        Output(WebSocketWriter writer, boolean binaryAudio) {
            this.writer = writer;
            this.binaryAudio = binaryAudio;
        }

        @Override
        public void deliver(SessionEvent event) {
            if (binaryAudio && !event.getAudio().isEmpty()) {
                // The event without its audio, then the audio itself as a binary frame: no base64 for browsers.
                writer.tryWrite(print(event.toBuilder().clearAudio().build()));
                writer.tryWrite(event.getAudio().toByteArray());
                return;
            }
            final Printed cached = lastPrinted.get();
            if (cached != null && cached.event == event) {
                writer.tryWrite(cached.json);
                return;
            }
            final String json = print(event);
            lastPrinted.set(new Printed(event, json));
            writer.tryWrite(json);
        }

        private static String print(SessionEvent event) {
            try {
                return printer.print(event);
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException("cannot print event " + event.getSequence(), e);
            }
        }

        @Override
        public void close(CloseCode code, String reason) {
            writer.close(code.code() >= 4000 ? WebSocketCloseStatus.ofPrivateUse(code.code(), reason)
                                             : WebSocketCloseStatus.valueOf(code.code()), reason);
        }
    }

    /** An event and its JSON. */
    private record Printed(SessionEvent event, String json) {}
}

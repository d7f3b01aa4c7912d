package ai.sonia.pipecat.ws;

import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Executor;

import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

import com.google.common.util.concurrent.MoreExecutors;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;

import com.linecorp.armeria.common.logging.RequestLogProperty;
import com.linecorp.armeria.common.websocket.WebSocket;
import com.linecorp.armeria.common.websocket.WebSocketFrame;
import com.linecorp.armeria.common.websocket.WebSocketWriter;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.websocket.WebSocketServiceHandler;

import ai.sonia.pipecat.domain.CloseCode;
import ai.sonia.pipecat.domain.Conversation;
import ai.sonia.pipecat.domain.Conversations;
import ai.sonia.pipecat.v1.ConverseRequest;
import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.runtime.Correlation;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.auth.CredentialWatch;
import ai.sonia.runtime.auth.ForwardedClient;
import ai.sonia.runtime.auth.Principal;
import io.netty.channel.Channel;

/**
 * {@code /ws/{session_id}?last_sequence=N}: the connection attaches to the session at once and gets
 * the events after {@code N}. The handshake carries a token ({@code Authorization: Bearer} or
 * {@code ?access_token=}) and, from a browser, an allowed {@code Origin}; a session the token's principal
 * does not own closes with 4001, like an unknown one; a token revoked while the socket is open closes it
 * with 1008 {@code credential revoked}. Text frames carry a {@code ConverseRequest} or a
 * bare {@code SessionEvent} in proto JSON, or the seed's {@code {"type":"MESSAGE","data":{...}}} ({@link #seedEvent});
 * any other gets an ERROR naming these shapes and 1002; binary frames carry 16 kHz mono PCM16 audio. Every server frame is a
 * {@code SessionEvent} in proto JSON (field names as in the proto; TTS audio base64 in {@code audio}), or
 * with {@code ?audio=binary} each TTS_AUDIO event without its audio followed by the audio as a binary frame.
 *
 * <p>Nothing here blocks Armeria's event loop: each connection's frames are handled in order on the
 * server's blocking-task executor (storage, engines), a few at a time, so a client that sends faster than
 * they are handled is slowed by TCP back-pressure instead of filling memory. Pings are answered with
 * pongs at once, idle clients are pinged, and what goes out is bounded by {@link SocketLink}.
 */
public final class ConversationSocket implements WebSocketServiceHandler {

    // Frames read ahead of the one being handled; past it the socket is not read (TCP back-pressure).
    private static final int INBOX_WINDOW = 16;

    private static final JsonFormat.Parser parser = JsonFormat.parser();

    /** The text frames a client may send, named in the error that answers any other. */
    static final String EXPECTED_FRAMES =
            "a ConverseRequest or SessionEvent in proto JSON, e.g."
            + " {\"type\":\"EVENT_TYPE_MESSAGE\",\"message_id\":\"m-1\",\"text\":\"hi\"},"
            + " or the seed's {\"type\":\"MESSAGE\",\"data\":{\"text\":\"hi\"}}";

    /** Frames a socket's writer holds besides its send queue. */
    public static final int WRITER_WINDOW = SocketLink.WINDOW;

    private final Conversations conversations;
    private final SocketSettings settings;
    private final ForwardedClient forwarded;

    /**
     * {@code forwarded} tells the address a connection counts against (its limit per address): the browser's
     * when the gateway's console bridge forwards it and proves so with its service credential, else the peer's.
     */
    public ConversationSocket(Conversations conversations, SocketSettings settings, ForwardedClient forwarded) {
        this.conversations = conversations;
        this.settings = settings;
        this.forwarded = forwarded;
    }

    /**
     * The limits of one socket.
     *
     * @param sendQueue events queued for a client that reads slowly; past it the socket closes with 4008
     * @param pingInterval a client silent this long is pinged; silent for another, it is disconnected
     * @param closeTimeout how long a client has to answer the server's close frame
     */
    public record SocketSettings(int sendQueue, Duration pingInterval, Duration closeTimeout) {}

    @Override
    public WebSocket handle(ServiceRequestContext ctx, WebSocket in) {
        final WebSocketWriter writer = WebSocket.streaming();
        final String correlationId = Correlation.of(ctx) != null ? Correlation.of(ctx) : Correlation.generate();
        final Channel channel = ctx.log().ensureAvailable(RequestLogProperty.SESSION).channel();
        final Executor inbox = MoreExecutors.newSequentialExecutor(ctx.blockingTaskExecutor());
        final SocketLink link = new SocketLink(writer, channel, ctx.sessionProtocol().isMultiplex() ? null : channel,
                                               settings, "binary".equals(ctx.queryParam("audio")));
        // The AuthDecorator refused the handshake unless it proved a principal, so there is one.
        final Conversation conversation = conversations.newConversation(
                Principal.current(), link, forwarded.clientAddress(ctx, Stack.GATEWAY.name()), correlationId);
        link.onGone(() -> inbox.execute(conversation::closed));
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
            final long from = after;
            if (valid) {
                inbox.execute(() -> conversation.attach(ctx.pathParam("session_id"), from));
            } else {
                conversation.malformed("last_sequence: " + lastSequence + " (expected: an integer)");
            }
        }
        in.subscribe(new Frames(conversation, link, inbox));
        link.startKeepalive(ctx.eventLoop());
        // The token was checked at the handshake; one revoked since closes the socket (1008).
        CredentialWatch.watch(ctx, () -> link.close(CloseCode.REVOKED, CredentialWatch.REVOKED));
        return writer;
    }

    /** Reads client frames; each one is handled in order, off the event loop. */
    private static final class Frames implements Subscriber<WebSocketFrame> {
        private final Conversation conversation;
        private final SocketLink link;
        private final Executor inbox;
        private Subscription subscription;

        Frames(Conversation conversation, SocketLink link, Executor inbox) {
            this.conversation = conversation;
            this.link = link;
            this.inbox = inbox;
        }

        @Override
        public void onSubscribe(Subscription subscription) {
            this.subscription = subscription;
            subscription.request(INBOX_WINDOW);
        }

        @Override
        public void onNext(WebSocketFrame frame) {
            link.heard(frame); // answers a ping with a pong at once
            try {
                switch (frame.type()) {
                    case TEXT -> {
                        final String json = frame.text();
                        handle(() -> text(json));
                    }
                    case BINARY -> {
                        final byte[] pcm = frame.array();
                        handle(() -> conversation.audio(pcm));
                    }
                    default -> subscription.request(1);
                }
            } finally {
                frame.close();
            }
        }

        private void handle(Runnable task) {
            inbox.execute(() -> {
                try {
                    task.run();
                } finally {
                    subscription.request(1);
                }
            });
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
            } catch (InvalidProtocolBufferException notAnEvent) {
                final SessionEvent seed;
                try {
                    seed = seedEvent(json);
                } catch (InvalidProtocolBufferException e) {
                    conversation.malformed(describe(e) + "; expected " + EXPECTED_FRAMES);
                    return;
                }
                if (seed == null) {
                    conversation.malformed("not a ConverseRequest or SessionEvent in proto JSON: "
                                           + describe(notAnEvent) + "; expected " + EXPECTED_FRAMES);
                    return;
                }
                conversation.event(seed);
                return;
            }
            conversation.event(event.build());
        }

        // The client closed (its close frame arrived) or vanished: answer its close and let the conversation go.
        @Override
        public void onError(Throwable t) {
            link.clientClosed();
        }

        @Override
        public void onComplete() {
            link.clientClosed();
        }
    }

    /**
     * The seed protocol's frame, {@code {"type":"MESSAGE","data":{"text":"hi"}}}: a JSON object of exactly
     * {@code type} (an event type, with or without its {@code EVENT_TYPE_} prefix, any case) and {@code data}
     * (the event's fields in proto JSON), read as that {@code SessionEvent}. Null when the frame does not have
     * that shape; an error saying what is wrong when it does but its type or data are not valid.
     */
    static SessionEvent seedEvent(String json) throws InvalidProtocolBufferException {
        final Struct.Builder frame = Struct.newBuilder();
        parser.merge(json, frame);
        final Value type = frame.getFieldsMap().get("type");
        final Value data = frame.getFieldsMap().get("data");
        if (type == null || type.getKindCase() != Value.KindCase.STRING_VALUE || data == null
            || data.getKindCase() != Value.KindCase.STRUCT_VALUE || frame.getFieldsCount() != 2) {
            return null;
        }
        final String name = type.getStringValue().toUpperCase(Locale.ROOT);
        final EnumValueDescriptor value = EventType.getDescriptor().findValueByName(
                name.startsWith("EVENT_TYPE_") ? name : "EVENT_TYPE_" + name);
        if (value == null || value.getNumber() == 0) {
            throw new InvalidProtocolBufferException("type: " + type.getStringValue() + " is not an event type");
        }
        final SessionEvent.Builder event = SessionEvent.newBuilder();
        parser.merge(JsonFormat.printer().print(data.getStructValue()), event);
        return event.setType(EventType.valueOf(value)).build();
    }

    /**
     * What was wrong with a frame, in the protocol's words: the JSON parser's own messages name its classes
     * ({@code com.google.gson...}), which mean nothing to a client.
     */
    static String describe(InvalidProtocolBufferException e) {
        final String message = String.valueOf(e.getMessage());
        if (e.getCause() != null || message.contains("com.google") || message.contains("Exception")) {
            return "not valid JSON";
        }
        return message;
    }
}

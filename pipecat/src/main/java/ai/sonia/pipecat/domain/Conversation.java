package ai.sonia.pipecat.domain;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.pipecat.v1.ConverseRequest;
import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.pipecat.v1.SessionState;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.errors.DomainException;
import ai.sonia.runtime.store.StoreUnavailableException;

/**
 * One client connection to one session, whatever the transport: attach with replay, client events
 * (MESSAGE, STATUS, SESSION_STOP), audio for the voice pipeline, limits and close codes. The WebSocket
 * handler and the gRPC {@code Converse} stream both drive this class, so they speak one protocol.
 *
 * <p>A connection belongs to the principal who opened it, and attaches only to a session that principal
 * owns; any other session is unknown to it (close code 4001), as if it did not exist.
 *
 * <p>Events of the session stream carry a sequence number from 1. Replies that concern only this
 * connection (a STATUS pong, a duplicate acknowledgement, a protocol ERROR) carry sequence 0: they are
 * not part of the session's stream and are not replayed.
 */
public final class Conversation {

    private static final Logger logger = LoggerFactory.getLogger(Conversation.class);
    // When to send an event again that was refused because its budget could not be checked.
    private static final long UNAVAILABLE_RETRY_MILLIS = 1000;

    private final Sessions sessions;
    private final ChatClient chat;
    private final ConnectionLimiter limiter;
    private final VoiceSupport voice;
    private final Executor executor;
    private final Principal principal;
    private final ConversationOutput out;
    private final String address;
    private final String correlationId;
    private final EventSink sink;
    private volatile LiveSession session;
    private volatile VoiceTurns voiceTurns;
    private boolean slotTaken;
    private volatile boolean ended;

    public Conversation(Sessions sessions, ChatClient chat, ConnectionLimiter limiter, VoiceSupport voice,
                        Executor executor, Principal principal, ConversationOutput out, String address,
                        String correlationId) {
        this.sessions = sessions;
        this.chat = chat;
        this.limiter = limiter;
        this.voice = voice;
        this.executor = executor;
        this.principal = principal;
        this.out = out;
        this.address = address;
        this.correlationId = correlationId;
        sink = new EventSink() {
            @Override
            public void deliver(SessionEvent event) {
                out.deliver(event);
                if (event.getType() == EventType.EVENT_TYPE_SESSION_STOP) {
                    end(CloseCode.NORMAL, "session closed");
                }
            }

            @Override
            public void sessionDeleted() {
                notice(EventType.EVENT_TYPE_ERROR, "session deleted", "NOT_FOUND", "");
                end(CloseCode.DELETED, "session deleted");
            }
        };
    }

    /** Takes a connection slot for the client's address; false (and the connection closed) at the limit. */
    public synchronized boolean open() {
        if (!limiter.tryAcquire(address)) {
            notice(EventType.EVENT_TYPE_ERROR, "too many connections from this address", "RATE_LIMITED", "");
            end(CloseCode.LIMIT, "connection limit");
            return false;
        }
        slotTaken = true;
        return true;
    }

    /** Whether a session is attached. */
    public synchronized boolean attached() {
        return session != null;
    }

    /** Attaches to a session and replays its events after {@code lastSequence}. */
    public synchronized void attach(String sessionId, long lastSequence) {
        if (ended) {
            return;
        }
        if (session != null) {
            malformed("already attached to a session");
            return;
        }
        if (lastSequence < 0) {
            malformed("last_sequence: " + lastSequence + " (expected: >= 0)");
            return;
        }
        try {
            final LiveSession target = sessions.attach(principal, sessionId, sink, lastSequence, correlationId);
            out.attached();
            session = target;
            if (target.snapshot().getVoice() && voice.available()) {
                voiceTurns = voice.newTurns(target, chat, executor, correlationId);
            }
        } catch (DomainException e) {
            final boolean unknown = e.code() == ErrorCode.ERROR_CODE_NOT_FOUND;
            notice(EventType.EVENT_TYPE_ERROR, e.getMessage(), unknown ? "NOT_FOUND" : "CONFLICT", "");
            end(unknown ? CloseCode.UNKNOWN_SESSION : CloseCode.SESSION_CLOSED,
                unknown ? "unknown session" : "session closed");
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    /** Handles one client message. */
    public void receive(ConverseRequest request) {
        switch (request.getFrameCase()) {
            case ATTACH -> attach(request.getAttach().getSessionId(), request.getAttach().getLastSequence());
            case EVENT -> event(request.getEvent());
            case AUDIO -> audio(request.getAudio().toByteArray());
            default -> malformed("empty frame: expected attach, event or audio");
        }
    }

    /** Handles a client event. */
    public void event(SessionEvent event) {
        final LiveSession current = attachedOrClose();
        if (current == null) {
            return;
        }
        try {
            final long retryMillis;
            try {
                retryMillis = sessions.tryAcquireEvent(current.id());
            } catch (DomainException e) {
                // The budget cannot be checked (the shared limiter is unreachable): this event is refused, not the
                // connection, so the client sends it again once the limiter is back.
                refuse(e.getMessage(), "UNAVAILABLE", event.getMessageId(), UNAVAILABLE_RETRY_MILLIS);
                return;
            }
            if (retryMillis > 0) {
                refuse("event rate limit of the session reached", "RATE_LIMITED", event.getMessageId(), retryMillis);
                return;
            }
            switch (event.getType()) {
                case EVENT_TYPE_STATUS -> {
                    current.touch();
                    notice(EventType.EVENT_TYPE_STATUS, "state=" + shortName(current.state())
                                                        + " last_sequence=" + current.snapshot().getLastSequence(),
                           "", event.getMessageId());
                }
                case EVENT_TYPE_MESSAGE -> message(current, event);
                case EVENT_TYPE_SESSION_STOP -> {
                    if (firstTime(current, event)) {
                        sessions.stop(current.id(), event.getText(), correlationId);
                    }
                }
                default -> unsupported("event type " + event.getType() + " cannot be sent by a client");
            }
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    /** Handles a frame of 16 kHz mono PCM16 little-endian audio. */
    public void audio(byte[] pcm) {
        final LiveSession current = attachedOrClose();
        if (current == null) {
            return;
        }
        if (!current.snapshot().getVoice()) {
            unsupported("audio frames need a session started with voice enabled");
            return;
        }
        if (pcm.length % 2 != 0) {
            malformed("audio frame of " + pcm.length + " bytes: PCM16 frames have an even length");
            return;
        }
        if (voiceTurns == null) {
            notice(EventType.EVENT_TYPE_ERROR, "speech engines unavailable: " + voice.describe(), "UNAVAILABLE", "");
            return;
        }
        if (current.state() != SessionState.SESSION_STATE_ACTIVE) {
            return;
        }
        try {
            voiceTurns.accept(pcm);
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    /** A frame that cannot be parsed: an ERROR then close code 1002. */
    public void malformed(String why) {
        notice(EventType.EVENT_TYPE_ERROR, why, "INVALID_ARGUMENT", "");
        end(CloseCode.MALFORMED, "malformed frame");
    }

    /** A frame the protocol does not accept: an ERROR then close code 1003. */
    public void unsupported(String why) {
        notice(EventType.EVENT_TYPE_ERROR, why, "INVALID_ARGUMENT", "");
        end(CloseCode.UNSUPPORTED, "unsupported frame");
    }

    /** The transport is gone: detach and give the slot back. */
    public synchronized void closed() {
        ended = true;
        if (voiceTurns != null) {
            voiceTurns.close();
        }
        if (session != null) {
            session.detach(sink);
            sessions.release(session);
        }
        if (slotTaken) {
            slotTaken = false;
            limiter.release(address);
        }
    }

    private void message(LiveSession current, SessionEvent event) {
        if (event.getText().isBlank()) {
            malformed("text: a MESSAGE needs text");
            return;
        }
        if (current.state() != SessionState.SESSION_STATE_ACTIVE) {
            notice(EventType.EVENT_TYPE_ERROR, "session is " + shortName(current.state()) + "; resume it first",
                   "CONFLICT", event.getMessageId());
            return;
        }
        final TurnLine turns = current.turns();
        if (!turns.tryReserve()) {
            refuse("too many chat turns waiting in this session", "RATE_LIMITED", event.getMessageId(),
                   turns.retryAfterMillis());
            return;
        }
        try {
            // The message id, the event and the history entry are stored together: a store failing part-way
            // keeps none of them, so the client's resend is taken, not ignored as a duplicate.
            if (current.appendMessage(SessionEvent.newBuilder().setType(EventType.EVENT_TYPE_MESSAGE)
                                                  .setMessageId(event.getMessageId()).setRole("user")
                                                  .setText(event.getText()).setCorrelationId(correlationId))
                       .isEmpty()) {
                turns.cancel();
                duplicate(event);
                return;
            }
        } catch (DomainException e) {
            turns.cancel();
            if (e.code() != ErrorCode.ERROR_CODE_RATE_LIMITED) {
                throw e;
            }
            // The session's history is full: this message is refused, not the connection; the session stays readable.
            notice(EventType.EVENT_TYPE_ERROR, e.getMessage(), "RATE_LIMITED", event.getMessageId());
            return;
        } catch (RuntimeException e) {
            // Not taken (the store failed): the place in line is free again.
            turns.cancel();
            throw e;
        }
        final VoiceTurns voiceNow = voiceTurns;
        // The turn keeps this copy of the session in memory until its reply is stored: a client that leaves and comes
        // back meanwhile attaches to the copy the reply goes to, instead of a fresh copy that would never hear of it.
        current.hold();
        turns.submit(() -> {
            CompletableFuture<?> turn;
            try {
                turn = voiceNow != null ? voiceNow.answer(event.getText()) : textTurn(current, event.getText());
            } catch (RuntimeException e) {
                turn = CompletableFuture.failedFuture(e);
            }
            return turn.whenComplete((unused, error) -> {
                current.unhold();
                sessions.release(current);
            });
        });
    }

    // Asks the assistant and appends its reply; the future ends when the reply is stored and sent.
    private CompletableFuture<?> textTurn(LiveSession current, String text) {
        if (current.state() == SessionState.SESSION_STATE_CLOSED) {
            // Stopped while this turn waited: nobody to answer.
            return CompletableFuture.completedFuture(null);
        }
        final long startNanos = System.nanoTime();
        return chat.reply(current.owner(), current.id(), text, correlationId).handleAsync((reply, error) -> {
            if (current.state() == SessionState.SESSION_STATE_CLOSED) {
                return null;
            }
            try {
                if (error != null) {
                    Replies.failed(current, error, correlationId);
                } else {
                    Replies.text(current, reply, correlationId, (System.nanoTime() - startNanos) / 1e6);
                }
            } catch (RuntimeException e) {
                logger.atWarn().addKeyValue("correlation_id", correlationId).setCause(e).log("Cannot store a reply");
            }
            return null;
        }, executor);
    }

    // An event beyond the session's limits (RATE_LIMITED), or whose limits cannot be checked now (UNAVAILABLE):
    // refused (not stored, not sequenced) with the time to retry.
    private void refuse(String why, String errorCode, String messageId, long retryMillis) {
        final SessionEvent.Builder event = noticeBuilder(EventType.EVENT_TYPE_ERROR, why, errorCode, messageId)
                .setRetryAfter(com.google.protobuf.Duration.newBuilder().setSeconds(retryMillis / 1000)
                                                          .setNanos((int) (retryMillis % 1000) * 1_000_000));
        out.deliver(event.build());
    }

    // A client message id seen before is acknowledged and not processed again.
    private boolean firstTime(LiveSession current, SessionEvent event) {
        if (event.getMessageId().isEmpty() || current.markSeen(event.getMessageId())) {
            return true;
        }
        duplicate(event);
        return false;
    }

    private void duplicate(SessionEvent event) {
        notice(EventType.EVENT_TYPE_STATUS, "duplicate message_id ignored", "", event.getMessageId());
    }

    private synchronized LiveSession attachedOrClose() {
        if (ended) {
            return null;
        }
        if (session == null) {
            malformed("the first frame must attach to a session");
        }
        return session;
    }

    private void notice(EventType type, String text, String errorCode, String messageId) {
        out.deliver(noticeBuilder(type, text, errorCode, messageId).build());
    }

    private SessionEvent.Builder noticeBuilder(EventType type, String text, String errorCode, String messageId) {
        final SessionEvent.Builder event = SessionEvent.newBuilder().setType(type).setRole("system").setText(text)
                                                       .setErrorCode(errorCode).setMessageId(messageId)
                                                       .setCorrelationId(correlationId);
        final LiveSession attached = session;
        if (attached != null) {
            event.setSessionId(attached.id());
        }
        return event.setTimestamp(com.google.protobuf.util.Timestamps.fromMillis(System.currentTimeMillis()));
    }

    private void failed(RuntimeException e) {
        if (e instanceof StoreUnavailableException store) {
            // The store, not the request: the client comes back later, and its last_sequence replays what was stored.
            logger.atWarn().addKeyValue("correlation_id", correlationId)
                  .log("Conversation ended, the session store is unavailable: {}", store.getMessage());
            notice(EventType.EVENT_TYPE_ERROR, "the session store is unavailable (" + store.getMessage()
                                               + "): reconnect later with last_sequence", "UNAVAILABLE", "");
            end(CloseCode.UNAVAILABLE, "session store unavailable, try again later");
            return;
        }
        logger.atWarn().addKeyValue("correlation_id", correlationId).setCause(e).log("Conversation failed");
        notice(EventType.EVENT_TYPE_ERROR, "internal error", "INTERNAL_ERROR", "");
        end(CloseCode.INTERNAL, "internal error");
    }

    private void end(CloseCode code, String reason) {
        if (ended) {
            return;
        }
        ended = true;
        out.close(code, reason);
    }

    private static String shortName(SessionState state) {
        return state.name().substring("SESSION_STATE_".length());
    }
}

package ai.sonia.pipecat;

import java.time.Duration;
import java.util.List;

import ai.sonia.runtime.ConfigKey;
import ai.sonia.runtime.edge.OriginPolicy;

/**
 * Pipecat's knobs: the {@code services.pipecat} section of the stack config, each key declared once here with its
 * default, bound by {@code StackConfig.service("pipecat", PipecatConfig.class)}; the environment sets any of them
 * by the stack's one rule ({@code SONIA_PIPECAT_SESSION_TTL_SECONDS} ...). Immutable.
 */
@ConfigKey("Sessions and voice.")
public record PipecatConfig(
        @ConfigKey(value = "Inactivity before a session closes.", def = "1800") long sessionTtlSeconds,
        @ConfigKey(value = "Sessions open at once.", def = "1000") int maxLiveSessions,
        @ConfigKey(value = "Sessions one user may have open at once; more are RATE_LIMITED (live_sessions_per_user), so"
                           + " one user cannot take the service's sessions from the others.", def = "50")
        int maxLiveSessionsPerUser,
        @ConfigKey(value = "Sessions one user keeps in any state (closed ones stay until deleted); more starts are "
                           + "RATE_LIMITED (sessions_per_user), so one user cannot fill the disk the others' "
                           + "sessions live on.", def = "1000") int maxSessionsPerUser,
        @ConfigKey(value = "Messages one session's history holds; more are refused with RATE_LIMITED "
                           + "(history_per_session), and the client starts a new session.", def = "5000")
        int maxHistoryPerSession,
        @ConfigKey(value = "WebSockets per address.", def = "5") int maxConnectionsPerIp,
        @ConfigKey(value = "Events per session and minute.", def = "1000") int eventsPerMinute,
        @ConfigKey(value = "Events kept per session for replay.", def = "100") int replayEvents,
        @ConfigKey(value = "Origins whose pages may open WebSockets.", shown = "this machine's")
        List<String> allowedOrigins,
        @ConfigKey(value = "Pace synthesized audio in real time.", def = "true") boolean ttsRealtime,
        @ConfigKey(value = "Chat turns that may wait behind the running one, per session; more are RATE_LIMITED.",
                   def = "4") int maxWaitingTurns,
        @ConfigKey(value = "Events queued to one slow socket before it is closed with 4008.", def = "64")
        int sendQueue,
        @ConfigKey(value = "Silence after which the server pings a WebSocket client (dropped after as long again).",
                   def = "20000") long pingIntervalMillis,
        @ConfigKey(value = "How long the server waits for the client's close frame.", def = "3000")
        long closeTimeoutMillis,
        @ConfigKey(value = "Silence that ends an utterance mid-sentence, or when the recognizer cannot tell.",
                   def = "400") long vadHangoverMillis,
        @ConfigKey(value = "Silence that ends an utterance after a complete phrase (the recognizer's words do not "
                           + "end in one that needs another); equal to vadHangoverMillis for a fixed hangover.",
                   def = "200") long vadPhraseHangoverMillis,
        @ConfigKey(value = "Speech recognizer: library (libpocketsphinx in process, with partial transcripts) or "
                           + "process (a pocketsphinx_continuous process per session).", def = "library")
        String asrEngine,
        @ConfigKey(value = "Share of the session's own language model (its recent turns and replies) interpolated "
                           + "with the general one in the library recognizer; 0: the general model alone.",
                   def = "0.5") double asrContextWeight,
        @ConfigKey("Conversation events to Kafka: every session event, keyed by session id, at least once;"
                   + " off while bootstrapServers is empty.") Kafka kafka) {

    /**
     * Publishing conversation events to Kafka ({@code services.pipecat.kafka}). Off by default.
     *
     * @param bootstrapServers the brokers, {@code host:port,host:port}; empty: nothing is published
     * @param topic where the events go
     * @param buffer events waiting for the producer; beyond it they are dropped, counted and shown in /status
     * @param stallSeconds how long events may wait unacknowledged before /status shows the publisher degraded
     */
    @ConfigKey("Conversation events to Kafka.")
    public record Kafka(
            @ConfigKey(value = "Kafka brokers, host:port[,host:port...]; empty: no publishing.", shown = "empty")
            String bootstrapServers,
            @ConfigKey(value = "The topic the events go to.", def = "conversation.events") String topic,
            @ConfigKey(value = "Events waiting for Kafka; more are dropped, counted on /metrics and shown in /status.",
                       def = "10000") int buffer,
            @ConfigKey(value = "Unacknowledged this long, the publisher shows degraded in /status.", def = "10")
            long stallSeconds) {

        public Kafka {
            bootstrapServers = bootstrapServers == null ? "" : bootstrapServers.strip();
            check(topic != null && !topic.isBlank(), "kafka.topic: empty (expected: a topic name)");
            check(buffer > 0, "kafka.buffer: " + buffer + " (expected: > 0)");
            check(stallSeconds > 0, "kafka.stallSeconds: " + stallSeconds + " (expected: > 0)");
        }

        /** Whether events are published. */
        public boolean enabled() {
            return !bootstrapServers.isEmpty();
        }
    }

    /** The origins a browser page served from this machine has. */
    public static final List<String> LOCAL_ORIGINS = OriginPolicy.LOCAL_ORIGINS;

    public PipecatConfig {
        check(sessionTtlSeconds > 0, "sessionTtlSeconds: " + sessionTtlSeconds + " (expected: > 0)");
        check(maxLiveSessions > 0, "maxLiveSessions: " + maxLiveSessions + " (expected: > 0)");
        check(maxLiveSessionsPerUser > 0, "maxLiveSessionsPerUser: " + maxLiveSessionsPerUser + " (expected: > 0)");
        check(maxSessionsPerUser > 0, "maxSessionsPerUser: " + maxSessionsPerUser + " (expected: > 0)");
        check(maxHistoryPerSession > 0, "maxHistoryPerSession: " + maxHistoryPerSession + " (expected: > 0)");
        check(maxConnectionsPerIp > 0, "maxConnectionsPerIp: " + maxConnectionsPerIp + " (expected: > 0)");
        check(eventsPerMinute > 0, "eventsPerMinute: " + eventsPerMinute + " (expected: > 0)");
        check(replayEvents > 0, "replayEvents: " + replayEvents + " (expected: > 0)");
        check(maxWaitingTurns >= 0, "maxWaitingTurns: " + maxWaitingTurns + " (expected: >= 0)");
        check(sendQueue > 0, "sendQueue: " + sendQueue + " (expected: > 0)");
        check(pingIntervalMillis >= 0, "pingIntervalMillis: " + pingIntervalMillis + " (expected: >= 0)");
        check(closeTimeoutMillis > 0, "closeTimeoutMillis: " + closeTimeoutMillis + " (expected: > 0)");
        check(vadHangoverMillis >= 20, "vadHangoverMillis: " + vadHangoverMillis + " (expected: >= 20)");
        check(vadPhraseHangoverMillis >= 20 && vadPhraseHangoverMillis <= vadHangoverMillis,
              "vadPhraseHangoverMillis: " + vadPhraseHangoverMillis + " (expected: 20 to vadHangoverMillis)");
        asrEngine = asrEngine == null ? "library" : asrEngine.strip();
        check(asrEngine.equals("library") || asrEngine.equals("process"),
              "asrEngine: " + asrEngine + " (expected: library or process)");
        check(asrContextWeight >= 0 && asrContextWeight < 1,
              "asrContextWeight: " + asrContextWeight + " (expected: 0 to below 1)");
        allowedOrigins = allowedOrigins == null ? LOCAL_ORIGINS : List.copyOf(allowedOrigins);
        kafka = kafka == null ? new Kafka("", "conversation.events", 10_000, 10) : kafka;
    }

    /** Inactivity after which a session is closed. */
    public Duration sessionTtl() {
        return Duration.ofSeconds(sessionTtlSeconds);
    }

    /** A silent WebSocket client is pinged after this (0 disables), and disconnected when silent as long again. */
    public Duration pingInterval() {
        return Duration.ofMillis(pingIntervalMillis);
    }

    /** How long a WebSocket client has to answer the server's close frame. */
    public Duration closeTimeout() {
        return Duration.ofMillis(closeTimeoutMillis);
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("services.pipecat." + message);
        }
    }
}

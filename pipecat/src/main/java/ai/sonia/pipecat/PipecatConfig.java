package ai.sonia.pipecat;

import ai.sonia.runtime.ConfigSchema;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;

import ai.sonia.runtime.StackConfig;

/**
 * Pipecat's knobs, from the {@code services.pipecat} section of the stack config with environment
 * overrides ({@code SONIA_PIPECAT_SESSION_TTL_SECONDS} ...). Immutable; every knob has a safe default.
 *
 * @param dataDir where the SQLite file lives
 * @param sessionTtl inactivity after which a session is closed (default 30 min)
 * @param maxLiveSessions sessions not closed at once (default 1000)
 * @param maxConnectionsPerIp live WebSocket/Converse connections from one address (default 5)
 * @param eventsPerMinute client events a session accepts per minute (default 1000)
 * @param replayEvents events kept per session for replay after a reconnect (default 100)
 * @param allowedOrigins browser origins allowed on the WebSocket; "*" allows any
 * @param ttsRealtime whether synthesized audio is paced at real time (needed for truthful barge-in)
 * @param maxWaitingTurns chat turns of a session waiting behind the one running (default 4); more are refused
 * @param sendQueue events queued for a WebSocket client that reads slowly (default 64); past it, close 4008
 * @param pingInterval a silent WebSocket client is pinged after this (default 20 s; 0 disables), and
 *     disconnected when silent for as long again
 * @param closeTimeout how long a WebSocket client has to answer the server's close frame (default 3 s)
 */
public record PipecatConfig(Path dataDir, Duration sessionTtl, int maxLiveSessions, int maxConnectionsPerIp,
                            int eventsPerMinute, int replayEvents, List<String> allowedOrigins,
                            boolean ttsRealtime, int maxWaitingTurns, int sendQueue, Duration pingInterval,
                            Duration closeTimeout) {

    /** The origins a browser page served from this machine has. */
    public static final List<String> LOCAL_ORIGINS = ai.sonia.runtime.edge.OriginPolicy.LOCAL_ORIGINS;

    public PipecatConfig {
        check(sessionTtl.toMillis() > 0, "sessionTtl: " + sessionTtl + " (expected: > 0)");
        check(maxLiveSessions > 0, "maxLiveSessions: " + maxLiveSessions + " (expected: > 0)");
        check(maxConnectionsPerIp > 0, "maxConnectionsPerIp: " + maxConnectionsPerIp + " (expected: > 0)");
        check(eventsPerMinute > 0, "eventsPerMinute: " + eventsPerMinute + " (expected: > 0)");
        check(replayEvents > 0, "replayEvents: " + replayEvents + " (expected: > 0)");
        check(maxWaitingTurns >= 0, "maxWaitingTurns: " + maxWaitingTurns + " (expected: >= 0)");
        check(sendQueue > 0, "sendQueue: " + sendQueue + " (expected: > 0)");
        check(!pingInterval.isNegative(), "pingIntervalMillis: " + pingInterval + " (expected: >= 0)");
        check(closeTimeout.toMillis() > 0, "closeTimeoutMillis: " + closeTimeout + " (expected: > 0)");
        allowedOrigins = List.copyOf(allowedOrigins);
    }

    /** The keys of {@code services.pipecat}. */
    public static ConfigSchema schema() {
        return ConfigSchema.object("Sessions and voice.")
                .field("sessionTtlSeconds", ConfigSchema.integer("Inactivity before a session closes.", 1800))
                .field("maxLiveSessions", ConfigSchema.integer("Sessions open at once.", 1000))
                .field("maxConnectionsPerIp", ConfigSchema.integer("WebSockets per address.", 5))
                .field("eventsPerMinute", ConfigSchema.integer("Events per session and minute.", 1000))
                .field("replayEvents", ConfigSchema.integer("Events kept per session for replay.", 100))
                .field("allowedOrigins", ConfigSchema.strings("Origins whose pages may open WebSockets.",
                                                              "this machine's"))
                .field("ttsRealtime", ConfigSchema.bool("Pace synthesized audio in real time.", true))
                .field("maxWaitingTurns", ConfigSchema.integer(
                        "Chat turns that may wait behind the running one, per session; more are RATE_LIMITED.", 4))
                .field("sendQueue", ConfigSchema.integer(
                        "Events queued to one slow socket before it is closed with 4008.", 64))
                .field("pingIntervalMillis", ConfigSchema.integer(
                        "Silence after which the server pings a WebSocket client (dropped after as long again).",
                        20_000))
                .field("closeTimeoutMillis", ConfigSchema.integer(
                        "How long the server waits for the client's close frame.", 3_000));
    }

    /** Reads the config; the environment wins over the file. */
    public static PipecatConfig from(StackConfig config) {
        final JsonNode section = config.service("pipecat");
        final List<String> origins = new ArrayList<>();
        final String envOrigins = config.env("SONIA_PIPECAT_ALLOWED_ORIGINS");
        if (envOrigins != null) {
            for (String origin : envOrigins.split(",")) {
                if (!origin.isBlank()) {
                    origins.add(origin.trim());
                }
            }
        } else if (section.path("allowedOrigins").isArray()) {
            section.path("allowedOrigins").forEach(o -> origins.add(o.asText()));
        } else {
            origins.addAll(LOCAL_ORIGINS);
        }
        return new PipecatConfig(
                config.dataDir("pipecat"),
                Duration.ofSeconds(number(config, section, "sessionTtlSeconds", 1800)),
                (int) number(config, section, "maxLiveSessions", 1000),
                (int) number(config, section, "maxConnectionsPerIp", 5),
                (int) number(config, section, "eventsPerMinute", 1000),
                (int) number(config, section, "replayEvents", 100),
                origins,
                bool(config, section, "ttsRealtime", true),
                (int) number(config, section, "maxWaitingTurns", 4),
                (int) number(config, section, "sendQueue", 64),
                Duration.ofMillis(number(config, section, "pingIntervalMillis", 20_000)),
                Duration.ofMillis(number(config, section, "closeTimeoutMillis", 3_000)));
    }

    private static long number(StackConfig config, JsonNode section, String key, long fallback) {
        final String env = config.env(envKey(key));
        if (env != null) {
            try {
                return Long.parseLong(env.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(envKey(key) + ": " + env + " (expected: an integer)", e);
            }
        }
        final JsonNode node = section.get(key);
        return node != null && node.canConvertToLong() ? node.asLong() : fallback;
    }

    private static boolean bool(StackConfig config, JsonNode section, String key, boolean fallback) {
        final String env = config.env(envKey(key));
        if (env != null) {
            return Boolean.parseBoolean(env.trim());
        }
        final JsonNode node = section.get(key);
        return node != null && node.isBoolean() ? node.asBoolean() : fallback;
    }

    // sessionTtlSeconds -> SONIA_PIPECAT_SESSION_TTL_SECONDS
    private static String envKey(String key) {
        return "SONIA_PIPECAT_" + key.replaceAll("([a-z])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}

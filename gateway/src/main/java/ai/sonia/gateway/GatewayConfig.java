package ai.sonia.gateway;

import ai.sonia.runtime.ConfigSchema;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.client.DownstreamPolicy;
import ai.sonia.runtime.edge.OriginPolicy;

/**
 * The gateway's own settings, from {@code services.gateway} of the config file:
 * {@code {"circuit": {"failuresToOpen": 5, "openSeconds": 5}, "maxConcurrentCalls": 64,
 * "maxConcurrentCallsPerTenant": 16, "allowedOrigins": ["http://localhost"],
 * "approvals": {"maxStreamsPerPrincipal": 8, "pingIntervalMillis": 20000}}} (calls in flight to each
 * downstream, in all and for one tenant; browser origins allowed on the WebSockets; approval WebSockets one
 * principal may hold at once, and the silence after which one is pinged).
 */
record GatewayConfig(DownstreamPolicy downstreamPolicy, List<String> allowedOrigins, int approvalStreamsPerPrincipal,
                     Duration approvalPingInterval) {

    static final int DEFAULT_APPROVAL_STREAMS = 8;
    static final Duration DEFAULT_PING_INTERVAL = Duration.ofSeconds(20);

    GatewayConfig {
        if (approvalStreamsPerPrincipal <= 0) {
            throw new IllegalArgumentException("services.gateway.approvals.maxStreamsPerPrincipal: "
                                               + approvalStreamsPerPrincipal + " (expected: > 0)");
        }
        if (approvalPingInterval.isNegative()) {
            throw new IllegalArgumentException("services.gateway.approvals.pingIntervalMillis: "
                                               + approvalPingInterval.toMillis() + " (expected: >= 0)");
        }
    }

    GatewayConfig(DownstreamPolicy downstreamPolicy) {
        this(downstreamPolicy, OriginPolicy.LOCAL_ORIGINS, DEFAULT_APPROVAL_STREAMS, DEFAULT_PING_INTERVAL);
    }

    /** The keys of {@code services.gateway}. */
    static ConfigSchema schema() {
        final ConfigSchema window = ConfigSchema.object("A token bucket.")
                .field("requests", ConfigSchema.integer("Requests allowed per window.", null))
                .field("perSeconds", ConfigSchema.number("The window, in seconds.", 60));
        return ConfigSchema.object("The public front door.")
                .field("allowedOrigins", ConfigSchema.strings("Origins whose pages may open its WebSockets.",
                                                              "this machine's"))
                .field("circuit", ConfigSchema.object("The circuit breaker of each downstream.")
                        .field("failuresToOpen", ConfigSchema.integer("Consecutive failures that open it.", 5))
                        .field("openSeconds", ConfigSchema.number("How long it stays open.", 10)))
                .field("maxConcurrentCalls", ConfigSchema.integer("Calls in flight per downstream.", 64))
                .field("maxConcurrentCallsPerTenant",
                       ConfigSchema.integer("Calls in flight per downstream for one tenant.", "a quarter of all"))
                .field("approvals", ConfigSchema.object("The approvals WebSocket.")
                        .field("maxStreamsPerPrincipal",
                               ConfigSchema.integer("Approval WebSockets one principal may hold at once.", 8))
                        .field("pingIntervalMillis", ConfigSchema.integer(
                                "Silence after which the server pings an approvals WebSocket client (dropped after "
                                + "as long again; 0 turns pinging off).", 20_000)))
                .field("auth", ConfigSchema.object("Accounts and tokens.")
                        .field("registration", ConfigSchema.string("Who may sign up: admin or open.", "admin"))
                        .field("bcryptCost", ConfigSchema.integer("The bcrypt cost of password hashes.", 12))
                        .field("accessTokenSeconds", ConfigSchema.integer("Access token lifetime.", 900))
                        .field("refreshTokenDays", ConfigSchema.integer("Refresh token lifetime.", 14))
                        .field("loginThrottle", ConfigSchema.object("Failed logins per user name and address.")
                                .field("maxFailures", ConfigSchema.integer("Failures before a lock.", 5))
                                .field("windowSeconds", ConfigSchema.number("Window the failures count in.", 900))
                                .field("lockSeconds", ConfigSchema.number("The first lock.", 30))
                                .field("maxLockSeconds", ConfigSchema.number("The longest lock.", 900))))
                .field("rateLimits", ConfigSchema.object("Requests per credential and per address.")
                        .field("perPrincipal", window)
                        .field("perIp", window));
    }

    static GatewayConfig from(StackConfig config) {
        final JsonNode section = config.service("gateway");
        final DownstreamPolicy defaults = DownstreamPolicy.DEFAULT;
        final List<String> origins = new ArrayList<>();
        section.path("allowedOrigins").forEach(o -> origins.add(o.asText()));
        final int maxConcurrentCalls = section.path("maxConcurrentCalls").asInt(defaults.maxConcurrentCalls());
        return new GatewayConfig(new DownstreamPolicy(
                section.path("circuit").path("failuresToOpen").asInt(defaults.failuresToOpen()),
                Duration.ofMillis((long) (section.path("circuit").path("openSeconds")
                                                 .asDouble(defaults.openDuration().toMillis() / 1000.0) * 1000)),
                maxConcurrentCalls,
                section.path("maxConcurrentCallsPerTenant").asInt(Math.max(1, maxConcurrentCalls / 4))),
                origins.isEmpty() ? OriginPolicy.LOCAL_ORIGINS : List.copyOf(origins),
                section.path("approvals").path("maxStreamsPerPrincipal").asInt(DEFAULT_APPROVAL_STREAMS),
                Duration.ofMillis(section.path("approvals").path("pingIntervalMillis")
                                         .asLong(DEFAULT_PING_INTERVAL.toMillis())));
    }
}

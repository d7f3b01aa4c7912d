package ai.sonia.gateway;

import java.time.Duration;
import java.util.List;

import ai.sonia.gateway.domain.AuthSettings;
import ai.sonia.runtime.ConfigKey;
import ai.sonia.runtime.client.DownstreamPolicy;
import ai.sonia.runtime.edge.OriginPolicy;

/**
 * The gateway's own settings, from {@code services.gateway} of the config file ({@link Keys}): the downstream
 * policy, browser origins allowed on the WebSockets, approval WebSockets one principal may hold at once, and the
 * silence after which one is pinged.
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

    /** The keys of {@code services.gateway}, each declared once. */
    @ConfigKey("The public front door.")
    record Keys(
            @ConfigKey(value = "Origins whose pages may open its WebSockets.", shown = "this machine's")
            List<String> allowedOrigins,
            @ConfigKey("The circuit breaker of each downstream.") Circuit circuit,
            @ConfigKey(value = "Calls in flight per downstream.", def = "64") int maxConcurrentCalls,
            @ConfigKey(value = "Calls in flight per downstream for one tenant.", shown = "a quarter of all")
            Integer maxConcurrentCallsPerTenant,
            @ConfigKey("The approvals WebSocket.") Approvals approvals,
            @ConfigKey("Accounts and tokens.") AuthSettings.Keys auth) {}

    record Circuit(@ConfigKey(value = "Consecutive failures that open it.", def = "5") int failuresToOpen,
                   @ConfigKey(value = "How long it stays open.", def = "5") double openSeconds) {}

    record Approvals(
            @ConfigKey(value = "Approval WebSockets one principal may hold at once.", def = "8")
            int maxStreamsPerPrincipal,
            @ConfigKey(value = "Silence after which the server pings an approvals WebSocket client (dropped after as "
                               + "long again; 0 turns pinging off).", def = "20000") long pingIntervalMillis) {}

    static GatewayConfig from(Keys keys) {
        return new GatewayConfig(new DownstreamPolicy(
                keys.circuit().failuresToOpen(), Duration.ofMillis((long) (keys.circuit().openSeconds() * 1000)),
                keys.maxConcurrentCalls(),
                keys.maxConcurrentCallsPerTenant() != null ? keys.maxConcurrentCallsPerTenant()
                                                           : Math.max(1, keys.maxConcurrentCalls() / 4)),
                keys.allowedOrigins() == null || keys.allowedOrigins().isEmpty() ? OriginPolicy.LOCAL_ORIGINS
                                                                                 : List.copyOf(keys.allowedOrigins()),
                keys.approvals().maxStreamsPerPrincipal(),
                Duration.ofMillis(keys.approvals().pingIntervalMillis()));
    }
}

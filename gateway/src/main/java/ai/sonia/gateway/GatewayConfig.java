package ai.sonia.gateway;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.client.DownstreamPolicy;
import ai.sonia.runtime.edge.OriginPolicy;

/**
 * The gateway's own settings, from {@code services.gateway} of the config file:
 * {@code {"circuit": {"failuresToOpen": 5, "openSeconds": 10}, "maxConcurrentCalls": 64,
 * "allowedOrigins": ["http://localhost"], "approvals": {"maxStreamsPerPrincipal": 8}}} (browser origins
 * allowed on the WebSockets; approval WebSockets one principal may hold at once).
 */
record GatewayConfig(DownstreamPolicy downstreamPolicy, List<String> allowedOrigins, int approvalStreamsPerPrincipal) {

    static final int DEFAULT_APPROVAL_STREAMS = 8;

    GatewayConfig {
        if (approvalStreamsPerPrincipal <= 0) {
            throw new IllegalArgumentException("services.gateway.approvals.maxStreamsPerPrincipal: "
                                               + approvalStreamsPerPrincipal + " (expected: > 0)");
        }
    }

    GatewayConfig(DownstreamPolicy downstreamPolicy) {
        this(downstreamPolicy, OriginPolicy.LOCAL_ORIGINS, DEFAULT_APPROVAL_STREAMS);
    }

    static GatewayConfig from(StackConfig config) {
        final JsonNode section = config.service("gateway");
        final DownstreamPolicy defaults = DownstreamPolicy.DEFAULT;
        final List<String> origins = new ArrayList<>();
        section.path("allowedOrigins").forEach(o -> origins.add(o.asText()));
        return new GatewayConfig(new DownstreamPolicy(
                section.path("circuit").path("failuresToOpen").asInt(defaults.failuresToOpen()),
                Duration.ofMillis((long) (section.path("circuit").path("openSeconds")
                                                 .asDouble(defaults.openDuration().toMillis() / 1000.0) * 1000)),
                section.path("maxConcurrentCalls").asInt(defaults.maxConcurrentCalls())),
                origins.isEmpty() ? OriginPolicy.LOCAL_ORIGINS : List.copyOf(origins),
                section.path("approvals").path("maxStreamsPerPrincipal").asInt(DEFAULT_APPROVAL_STREAMS));
    }
}

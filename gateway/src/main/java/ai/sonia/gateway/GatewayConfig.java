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
 * {@code {"circuit": {"failuresToOpen": 5, "openSeconds": 5}, "maxConcurrentCalls": 64,
 * "maxConcurrentCallsPerTenant": 16, "allowedOrigins": ["http://localhost"]}} (calls in flight to each
 * downstream, in all and for one tenant; browser origins allowed on the WebSockets).
 */
record GatewayConfig(DownstreamPolicy downstreamPolicy, List<String> allowedOrigins) {

    GatewayConfig(DownstreamPolicy downstreamPolicy) {
        this(downstreamPolicy, OriginPolicy.LOCAL_ORIGINS);
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
                origins.isEmpty() ? OriginPolicy.LOCAL_ORIGINS : List.copyOf(origins));
    }
}

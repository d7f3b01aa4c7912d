package ai.sonia.gateway;

import java.time.Duration;

import com.fasterxml.jackson.databind.JsonNode;

import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.client.DownstreamPolicy;

/**
 * The gateway's own settings, from {@code services.gateway} of the config file:
 * {@code {"circuit": {"failuresToOpen": 5, "openSeconds": 10}, "maxConcurrentCalls": 64}}.
 */
record GatewayConfig(DownstreamPolicy downstreamPolicy) {

    static GatewayConfig from(StackConfig config) {
        final JsonNode section = config.service("gateway");
        final DownstreamPolicy defaults = DownstreamPolicy.DEFAULT;
        return new GatewayConfig(new DownstreamPolicy(
                section.path("circuit").path("failuresToOpen").asInt(defaults.failuresToOpen()),
                Duration.ofMillis((long) (section.path("circuit").path("openSeconds")
                                                 .asDouble(defaults.openDuration().toMillis() / 1000.0) * 1000)),
                section.path("maxConcurrentCalls").asInt(defaults.maxConcurrentCalls())));
    }
}

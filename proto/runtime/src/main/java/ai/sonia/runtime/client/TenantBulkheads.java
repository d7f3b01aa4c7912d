package ai.sonia.runtime.client;

import java.time.Duration;

import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.bulkhead.BulkheadRegistry;

/**
 * A bulkhead per tenant in front of one downstream: each tenant may hold at most
 * {@code maxConcurrentCalls} calls in flight to it, so one tenant's load or slow calls (a storm of tool
 * timeouts, a burst of chats) use up that tenant's share only, never the whole downstream.
 */
final class TenantBulkheads {

    private final String service;
    private final BulkheadRegistry registry;
    private final int maxConcurrentCalls;

    TenantBulkheads(String service, int maxConcurrentCalls) {
        this.service = service;
        this.maxConcurrentCalls = maxConcurrentCalls;
        registry = BulkheadRegistry.of(BulkheadConfig.custom()
                                                     .maxConcurrentCalls(maxConcurrentCalls)
                                                     .maxWaitDuration(Duration.ZERO)
                                                     .build());
    }

    /** The bulkhead of a tenant ("" for a service acting for itself). */
    Bulkhead of(String tenant) {
        return registry.bulkhead(service + '/' + tenant);
    }

    int maxConcurrentCalls() {
        return maxConcurrentCalls;
    }
}

package ai.sonia.router.store;

import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.annotation.Nullable;

import ai.sonia.router.domain.HourTotal;
import ai.sonia.router.domain.Ledger;
import ai.sonia.router.domain.UsageRecord;
import ai.sonia.router.domain.UsageScope;
import ai.sonia.router.domain.UsageSums;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The ledger, also counted on {@code /metrics}: tokens by direction, cost, and provider latency, per provider
 * and deployment (never per tenant or user: the ledger has those, a scrape need not).
 */
public final class MeteredLedger implements Ledger {

    private final Ledger delegate;
    private final MeterRegistry registry;

    public MeteredLedger(Ledger delegate, MeterRegistry registry) {
        this.delegate = delegate;
        this.registry = registry;
    }

    @Override
    public void record(UsageRecord usage) {
        delegate.record(usage);
        final String provider = usage.provider();
        final String deployment = usage.deployment();
        tokens(provider, deployment, "input").increment(usage.promptTokens());
        tokens(provider, deployment, "output").increment(usage.completionTokens());
        Counter.builder("sonia.router.cost.micros").description("Cost of served requests, in millionths of a dollar")
               .tags("provider", provider, "deployment", deployment).register(registry)
               .increment(usage.costMicros());
        Timer.builder("sonia.router.provider.latency").description("Time to a provider's complete answer")
             .tags("provider", provider, "deployment", deployment).register(registry)
             .record(usage.latencyMs(), TimeUnit.MILLISECONDS);
    }

    private Counter tokens(String provider, String deployment, String direction) {
        return Counter.builder("sonia.router.tokens").description("Tokens of served requests")
                      .tags("provider", provider, "deployment", deployment, "direction", direction)
                      .register(registry);
    }

    @Override
    public Charged chargedSince(String tenant, String fromDay) {
        return delegate.chargedSince(tenant, fromDay);
    }

    @Override
    public UsageSums sums(UsageScope scope, String startDay, String endDay, @Nullable UsageSums.Key after,
                          int limit) {
        return delegate.sums(scope, startDay, endDay, after, limit);
    }

    @Override
    public List<HourTotal> hourlyTotals(UsageScope scope, long fromHour) {
        return delegate.hourlyTotals(scope, fromHour);
    }
}

package ai.sonia.router.store;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import javax.annotation.Nullable;

import ai.sonia.router.domain.BudgetLimits;
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
    private final Map<Key, Meters> meters = new ConcurrentHashMap<>();

    public MeteredLedger(Ledger delegate, MeterRegistry registry) {
        this.delegate = delegate;
        this.registry = registry;
    }

    @Override
    public void record(UsageRecord usage) {
        delegate.record(usage);
        count(usage);
    }

    @Override
    public boolean recordWithin(UsageRecord usage, BudgetLimits limits) {
        final boolean recorded = delegate.recordWithin(usage, limits);
        if (recorded) {
            count(usage);
        }
        return recorded;
    }

    private void count(UsageRecord usage) {
        final Meters m = meters.computeIfAbsent(new Key(usage.provider(), usage.deployment()), this::metersOf);
        m.input().increment(usage.promptTokens());
        m.output().increment(usage.completionTokens());
        m.cost().increment(usage.costMicros());
        m.latency().record(usage.latencyMs(), TimeUnit.MILLISECONDS);
    }

    /** The meters of one provider and deployment, registered once instead of looked up on every call. */
    private Meters metersOf(Key key) {
        return new Meters(tokens(key, "input"), tokens(key, "output"),
                          Counter.builder("sonia.router.cost.micros")
                                 .description("Cost of served requests, in millionths of a dollar")
                                 .tags("provider", key.provider(), "deployment", key.deployment()).register(registry),
                          Timer.builder("sonia.router.provider.latency").description("Time to a provider's complete answer")
                               .tags("provider", key.provider(), "deployment", key.deployment()).register(registry));
    }

    private Counter tokens(Key key, String direction) {
        return Counter.builder("sonia.router.tokens").description("Tokens of served requests")
                      .tags("provider", key.provider(), "deployment", key.deployment(), "direction", direction)
                      .register(registry);
    }

    private record Key(String provider, String deployment) {}

    private record Meters(Counter input, Counter output, Counter cost, Timer latency) {}

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

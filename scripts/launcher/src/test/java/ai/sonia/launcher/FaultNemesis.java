package ai.sonia.launcher;

import java.util.List;

import com.linecorp.armeria.common.annotation.Nullable;

import ai.sonia.launcher.FaultHistory.Fault;
import ai.sonia.launcher.FaultHistory.Kind;
import ai.sonia.runtime.FaultInjector;
import ai.sonia.runtime.FaultInjector.Faults;
import ai.sonia.runtime.testing.DiskFaults;
import io.grpc.Status;

/**
 * The nemesis: one fault at a time, held for a while, then healed, with a quiet spell between faults.
 * Faults of the whole stack (a service killed and restarted, a database that cannot write) and faults of
 * one tenant only (its calls failed or slowed inside a service, its bursts and impossible deadlines), whose
 * effects must stay with that tenant.
 */
final class FaultNemesis {

    /** One fault: {@code start} begins it (a burst runs to its end), {@code heal} ends it. */
    record Step(String name, @Nullable String tenant, Action start, Action heal) {}

    @FunctionalInterface
    interface Action {
        void run() throws Exception;

        Action NOTHING = () -> {};
    }

    private final FaultHistory history;
    private final long holdMs;
    private final long quietMs;

    FaultNemesis(FaultHistory history, long holdMs, long quietMs) {
        this.history = history;
        this.holdMs = holdMs;
        this.quietMs = quietMs;
    }

    /** The standard schedule against an in-process stack, with {@code tenant} as the troublemaker. */
    static List<Step> schedule(InProcessStack stack, FaultClients clients, String tenant, int burst) {
        final DiskFaults[] disk = new DiskFaults[1];
        return List.of(
                new Step("router fails every call of " + tenant + " with UNAVAILABLE", tenant,
                         () -> FaultInjector.set("router", new Faults(1, Status.Code.UNAVAILABLE, null, 0, tenant)),
                         () -> FaultInjector.set("router", Faults.NONE)),
                new Step("memory answers " + tenant + " 300 ms late", tenant,
                         () -> FaultInjector.set("memory", new Faults(1, Status.Code.OK, null, 300, tenant)),
                         () -> FaultInjector.set("memory", Faults.NONE)),
                new Step(tenant + " chats with 5 ms deadlines", tenant,
                         () -> clients.burst(tenant, Kind.CHAT, 40, 8, 5), Action.NOTHING),
                new Step(tenant + " bursts " + burst + " stores and " + burst / 3 + " chats", tenant,
                         () -> {
                             clients.burst(tenant, Kind.STORE, burst, 16, FaultClients.STORE_DEADLINE_MS);
                             clients.burst(tenant, Kind.CHAT, burst / 3, 16, FaultClients.CHAT_DEADLINE_MS);
                         }, Action.NOTHING),
                new Step("memory killed and restarted", null,
                         () -> stack.stop("memory"), () -> stack.start("memory")),
                new Step("memory's disk refuses writes", null,
                         () -> disk[0] = DiskFaults.readOnly(stack.config().dataDir("memory")),
                         () -> disk[0].close()));
    }

    /**
     * Runs each step in turn: quiet, start, hold, heal; records each in the history. After a fault of the
     * whole stack it waits (up to {@code settleMs}) until a bystander's store and undegraded chat succeed
     * again, so one fault's recovery is measured alone.
     */
    void run(List<Step> steps, long warmupMs, long settleMs) throws Exception {
        Thread.sleep(warmupMs);
        for (Step step : steps) {
            final long start = System.nanoTime();
            step.start().run();
            Thread.sleep(holdMs);
            step.heal().run();
            final long healed = System.nanoTime();
            history.add(new Fault(step.name(), step.tenant(), start, healed));
            if (step.tenant() == null) {
                final long until = System.nanoTime() + settleMs * 1_000_000;
                while (!recovered(healed) && System.nanoTime() < until) {
                    Thread.sleep(100);
                }
            }
            Thread.sleep(quietMs);
        }
    }

    private boolean recovered(long healNanos) {
        boolean store = false;
        boolean chat = false;
        for (FaultHistory.Op op : history.ops()) {
            if (op.invokeNanos() >= healNanos && op.ok() && !op.degraded()) {
                store |= op.kind() == Kind.STORE;
                chat |= op.kind() == Kind.CHAT;
            }
        }
        return store && chat;
    }
}

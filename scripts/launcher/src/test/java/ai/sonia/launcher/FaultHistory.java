package ai.sonia.launcher;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

import com.linecorp.armeria.common.annotation.Nullable;

/**
 * What happened in a fault run, as Jepsen records it: every client operation with its invocation and
 * completion times, and every fault the nemesis started and healed. The checker reads only this.
 */
final class FaultHistory {

    /** Kinds of client operations. */
    enum Kind { STORE, CHAT }

    /**
     * One completed operation: {@code code} is the gRPC status name ("OK", "UNAVAILABLE", ...),
     * {@code detail} its description, {@code value} the acknowledged memory name of a store, {@code degraded} whether a chat answered
     * without some dependency.
     */
    record Op(String client, String tenant, Kind kind, long deadlineMs, long invokeNanos, long completeNanos,
              String code, String detail, @Nullable String value, @Nullable String text, boolean degraded) {
        long elapsedMs() {
            return (completeNanos - invokeNanos) / 1_000_000;
        }

        boolean ok() {
            return "OK".equals(code);
        }
    }

    /**
     * One fault: {@code tenant} is the only tenant it targets (null: the whole stack), {@code healNanos}
     * when it was healed (the dependency back, the disk writable again).
     */
    record Fault(String name, @Nullable String tenant, long startNanos, long healNanos) {}

    private final ConcurrentLinkedQueue<Op> ops = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Fault> faults = new ConcurrentLinkedQueue<>();

    void add(Op op) {
        ops.add(op);
    }

    void add(Fault fault) {
        faults.add(fault);
    }

    List<Op> ops() {
        return new ArrayList<>(ops);
    }

    List<Fault> faults() {
        return new ArrayList<>(faults);
    }
}

package ai.sonia.evaos.domain;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;

import ai.sonia.evaos.v1.Approval;
import ai.sonia.evaos.v1.ApprovalChange;

/**
 * Fans approval changes (CREATED, DECIDED, EXPIRED) out to watchers: those made through this replica, and
 * those that other replicas sharing the store made ({@link ApprovalStore#followOtherReplicas}).
 */
public final class ApprovalEvents {

    private record Watcher(BiConsumer<Approval, ApprovalChange> listener, Runnable lost) {}

    private final List<Watcher> watchers = new CopyOnWriteArrayList<>();
    private final List<BiConsumer<Approval, ApprovalChange>> own = new CopyOnWriteArrayList<>();

    /**
     * Registers a watcher of every change, whichever replica made it, and {@code lost}, run when changes that
     * other replicas made may have been missed (the watcher should end, so that its client watches anew from
     * a fresh snapshot); returns what removes both.
     */
    public Runnable subscribe(BiConsumer<Approval, ApprovalChange> listener, Runnable lost) {
        final Watcher watcher = new Watcher(listener, lost);
        watchers.add(watcher);
        return () -> watchers.remove(watcher);
    }

    /**
     * Registers a listener of the changes made through this replica only (each replica counts its own, so
     * that the replicas' counts add up); returns what removes it.
     */
    public Runnable subscribeOwn(BiConsumer<Approval, ApprovalChange> listener) {
        own.add(listener);
        return () -> own.remove(listener);
    }

    void publish(Approval approval, ApprovalChange change) {
        own.forEach(l -> l.accept(approval, change));
        watchers.forEach(w -> w.listener().accept(approval, change));
    }

    /** A change another replica made, for the watchers. */
    void publishFromOtherReplica(Approval approval, ApprovalChange change) {
        watchers.forEach(w -> w.listener().accept(approval, change));
    }

    /** Other replicas' changes may have been missed: every watcher is told. */
    void otherReplicasLost() {
        watchers.forEach(w -> w.lost().run());
    }
}

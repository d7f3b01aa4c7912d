package ai.sonia.evaos.domain;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;

import ai.sonia.evaos.v1.Approval;
import ai.sonia.evaos.v1.ApprovalChange;

/** Fans approval changes (CREATED, DECIDED, EXPIRED) out to watchers. */
public final class ApprovalEvents {

    private final List<BiConsumer<Approval, ApprovalChange>> listeners = new CopyOnWriteArrayList<>();

    /** Registers a watcher; returns what removes it. */
    public Runnable subscribe(BiConsumer<Approval, ApprovalChange> listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    void publish(Approval approval, ApprovalChange change) {
        listeners.forEach(l -> l.accept(approval, change));
    }
}

package ai.sonia.memory.domain;

/**
 * Whether a tenant's memories may change now: a tenant that EVA-OS has in training mode is being read by a
 * training run, and a store, supersede, invalidation or forget would race with it, so each is refused with
 * TRAINING_LOCKED (the same reason EVA-OS refuses actions with). An implementation that cannot tell refuses
 * too (UNAVAILABLE): it never guesses that a tenant is free.
 */
public interface TrainingGate {

    /** Lets every change through: a memory configured to run without EVA-OS. */
    TrainingGate OFF = tenant -> {};

    /** Returns when {@code tenant}'s memories may change; throws the refusal otherwise. */
    void checkWritable(String tenant);
}

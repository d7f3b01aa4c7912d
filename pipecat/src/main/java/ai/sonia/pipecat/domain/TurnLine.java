package ai.sonia.pipecat.domain;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The chat turns of one session: one at a time, in order, with a few waiting; a turn beyond those is
 * refused when it arrives ({@code RATE_LIMITED} with a retry time) rather than accepted and failed later.
 * One session's burst thus puts at most one call at a time on the assistant, whatever its size.
 */
final class TurnLine {

    private final int maxWaiting;
    private final ArrayDeque<Supplier<CompletableFuture<?>>> waiting = new ArrayDeque<>();
    private int reserved;
    private boolean running;
    private long runningSinceNanos;
    // Mean duration of a turn (exponentially weighted), for the retry time.
    private double meanMillis = 1000;

    TurnLine(int maxWaiting) {
        this.maxWaiting = maxWaiting;
    }

    /** Reserves a place in line; false when the running turn and {@code maxWaiting} more hold every place. */
    synchronized boolean tryReserve() {
        if (reserved > maxWaiting) {
            return false;
        }
        reserved++;
        return true;
    }

    /** Gives back a place reserved but not used. */
    synchronized void cancel() {
        reserved--;
    }

    /** Runs a turn in its reserved place, after the ones before it; the future ends the turn. */
    void submit(Supplier<CompletableFuture<?>> turn) {
        synchronized (this) {
            waiting.addLast(turn);
            if (running) {
                return;
            }
            running = true;
        }
        runNext();
    }

    /** When a place is likely to be free again, in milliseconds (an estimate from recent turns). */
    synchronized long retryAfterMillis() {
        final double left = running ? meanMillis - (System.nanoTime() - runningSinceNanos) / 1e6 : 0;
        return Math.max(100, Math.round(left + meanMillis * Math.max(0, waiting.size() - 1)));
    }

    private void runNext() {
        final Supplier<CompletableFuture<?>> next;
        final long start = System.nanoTime();
        synchronized (this) {
            next = waiting.pollFirst();
            if (next == null) {
                running = false;
                return;
            }
            runningSinceNanos = start;
        }
        CompletableFuture<?> turn;
        try {
            turn = next.get();
        } catch (RuntimeException e) {
            turn = CompletableFuture.failedFuture(e);
        }
        turn.whenComplete((unused, cause) -> {
            synchronized (this) {
                reserved--;
                meanMillis = 0.8 * meanMillis + 0.2 * (System.nanoTime() - start) / 1e6;
            }
            runNext();
        });
    }
}

package ai.sonia.pipecat.domain;

/** A fixed-window counter: at most {@code limit} acquisitions per window. */
final class RateWindow {

    private final int limit;
    private final long windowMillis;
    private long windowStart;
    private int used;

    RateWindow(int limit, long windowMillis) {
        this.limit = limit;
        this.windowMillis = windowMillis;
    }

    /** 0 when acquired; otherwise the milliseconds until the window starts over. */
    synchronized long tryAcquire(long nowMillis) {
        if (nowMillis - windowStart >= windowMillis) {
            windowStart = nowMillis;
            used = 0;
        }
        if (used >= limit) {
            return Math.max(1, windowStart + windowMillis - nowMillis);
        }
        used++;
        return 0;
    }
}

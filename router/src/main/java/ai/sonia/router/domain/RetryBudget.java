package ai.sonia.router.domain;

/**
 * Bounds retries to a share of the traffic, as Finagle's and Envoy's retry budgets do: each request
 * deposits {@code ratio} of a token, each retry withdraws a whole one, and the balance is capped. A
 * failing provider under load then gets at most {@code ratio} extra calls per request, never a storm.
 */
public final class RetryBudget {

    private final double ratio;
    private final double cap;
    private double balance;

    public RetryBudget(double ratio, double cap) {
        if (ratio < 0 || ratio > 1) {
            throw new IllegalArgumentException("ratio: " + ratio + " (expected: 0..1)");
        }
        this.ratio = ratio;
        this.cap = cap;
        balance = cap;
    }

    public synchronized void deposit() {
        balance = Math.min(cap, balance + ratio);
    }

    /** Takes one retry from the budget; false when it is spent. */
    public synchronized boolean tryWithdraw() {
        if (balance < 1) {
            return false;
        }
        balance -= 1;
        return true;
    }
}

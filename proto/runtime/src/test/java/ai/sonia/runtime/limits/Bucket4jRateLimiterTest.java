package ai.sonia.runtime.limits;

/** The in-process limiter against the contract. */
class Bucket4jRateLimiterTest extends RateLimiterContract {

    @Override
    protected RateLimiter newLimiter() {
        return new Bucket4jRateLimiter();
    }
}

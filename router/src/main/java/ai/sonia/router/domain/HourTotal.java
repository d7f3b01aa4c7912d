package ai.sonia.router.domain;

/** A tenant's (or everyone's) usage in one UTC hour, {@code hour} hours after the epoch. */
public record HourTotal(long hour, long promptTokens, long completionTokens, long costMicros) {

    /** Prompt and completion tokens. */
    public long tokens() {
        return promptTokens + completionTokens;
    }
}

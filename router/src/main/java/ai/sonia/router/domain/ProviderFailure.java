package ai.sonia.router.domain;

import java.time.Duration;

import javax.annotation.Nullable;

/** Why one call to one deployment failed, in the terms the router decides on. */
public final class ProviderFailure extends RuntimeException {

    /** What kind of failure, which decides between retry, fallover and giving up. */
    public enum Kind {
        /** Connection refused or reset before an answer: try the next deployment, cool this one down. */
        UNREACHABLE(true),
        /** 5xx or a broken connection: retry once if the budget allows, then the next deployment. */
        SERVER_ERROR(true),
        /** No answer within the deployment's timeout. */
        TIMEOUT(true),
        /** 429: cool down until Retry-After, then the next deployment. */
        RATE_LIMITED(true),
        /** Bad key or unknown model: this deployment cannot answer, another may. */
        MISCONFIGURED(true),
        /** The request itself is bad (400): no deployment can fix it; never retried. */
        BAD_REQUEST(false),
        /** The provider refused the content: never retried. */
        REFUSED(false);

        private final boolean fallover;

        Kind(boolean fallover) {
            this.fallover = fallover;
        }

        /** Whether another deployment could fix it. */
        public boolean fallover() {
            return fallover;
        }
    }

    private final Kind kind;
    @Nullable
    private final Duration retryAfter;

    public ProviderFailure(Kind kind, String message, @Nullable Duration retryAfter, @Nullable Throwable cause) {
        super(message, cause, false, false);
        this.kind = kind;
        this.retryAfter = retryAfter;
    }

    public Kind kind() {
        return kind;
    }

    /** The provider's Retry-After, when it sent one. */
    @Nullable
    public Duration retryAfter() {
        return retryAfter;
    }
}

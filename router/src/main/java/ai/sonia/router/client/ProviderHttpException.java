package ai.sonia.router.client;

import java.time.Duration;

import javax.annotation.Nullable;

import dev.langchain4j.exception.HttpException;

/** A non-2xx answer from a provider, keeping the Retry-After that LangChain4j's own exception drops. */
public final class ProviderHttpException extends HttpException {

    @Nullable
    private final Duration retryAfter;

    ProviderHttpException(int statusCode, String body, @Nullable Duration retryAfter) {
        super(statusCode, body);
        this.retryAfter = retryAfter;
    }

    /** The provider's Retry-After, when it sent one. */
    @Nullable
    public Duration retryAfter() {
        return retryAfter;
    }
}

package ai.sonia.router.provider;

import java.io.IOException;
import java.net.ConnectException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.Locale;

import javax.annotation.Nullable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import com.linecorp.armeria.client.ResponseTimeoutException;

import ai.sonia.router.client.ProviderHttpException;
import ai.sonia.router.domain.ProviderFailure;
import ai.sonia.router.domain.ProviderFailure.Kind;
import dev.langchain4j.exception.ContentFilteredException;
import dev.langchain4j.exception.HttpException;

/** Turns whatever a LangChain4j model threw into the router's {@link ProviderFailure}. */
final class FailureClassifier {

    private static final ObjectMapper mapper = new ObjectMapper();

    static ProviderFailure classify(Throwable error) {
        if (error instanceof ProviderFailure failure) {
            return failure;
        }
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof HttpException http) {
                return fromStatus(http.statusCode(), reason(http.getMessage()),
                                  http instanceof ProviderHttpException p ? p.retryAfter() : null, error);
            }
            if (t instanceof ContentFilteredException) {
                return new ProviderFailure(Kind.REFUSED, "content refused: " + t.getMessage(), null, error);
            }
            if (t instanceof ConnectException || t instanceof UnresolvedAddressException) {
                return new ProviderFailure(Kind.UNREACHABLE, "unreachable: " + describe(t), null, error);
            }
            if (t instanceof ResponseTimeoutException || t instanceof java.util.concurrent.TimeoutException
                || t instanceof dev.langchain4j.exception.TimeoutException) {
                return new ProviderFailure(Kind.TIMEOUT, "timed out: " + describe(t), null, error);
            }
        }
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof IOException) {
                return new ProviderFailure(Kind.SERVER_ERROR, "connection failed: " + describe(t), null, error);
            }
        }
        return new ProviderFailure(Kind.SERVER_ERROR, describe(error), null, error);
    }

    static ProviderFailure fromStatus(int status, String reason, @Nullable Duration retryAfter,
                                      @Nullable Throwable cause) {
        final String message = "HTTP " + status + ": " + reason;
        if (status == 429) {
            return new ProviderFailure(Kind.RATE_LIMITED, message, retryAfter, cause);
        }
        if (status == 401 || status == 403 || status == 404) {
            return new ProviderFailure(Kind.MISCONFIGURED, message, null, cause);
        }
        if (status == 400 || status == 413 || status == 422) {
            final String lower = reason.toLowerCase(Locale.ROOT);
            final boolean refused = lower.contains("content_filter") || lower.contains("content_policy")
                                    || lower.contains("content policy") || lower.contains("refus");
            return new ProviderFailure(refused ? Kind.REFUSED : Kind.BAD_REQUEST, message, null, cause);
        }
        return new ProviderFailure(Kind.SERVER_ERROR, message, null, cause);
    }

    /** The provider's own error message out of its JSON body ({"error":{"message":...}} or {"error":"..."}). */
    private static String reason(@Nullable String body) {
        if (body == null || body.isBlank()) {
            return "(no body)";
        }
        try {
            final JsonNode json = mapper.readTree(body);
            final JsonNode error = json.path("error");
            if (error.isTextual()) {
                return error.asText();
            }
            if (error.path("message").isTextual()) {
                return error.path("message").asText();
            }
        } catch (IOException notJson) {
            // fall through: use the body as it is
        }
        return body.length() > 300 ? body.substring(0, 300) : body;
    }

    private static String describe(Throwable t) {
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    private FailureClassifier() {}
}

package ai.sonia.router.domain;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

import javax.annotation.Nullable;

/**
 * One model at one provider, as configured: {@code ollama/llama3.2}. The API key is held but never
 * printed.
 */
public record Deployment(String name, String provider, String providerModel, String baseUrl,
                         @Nullable String apiKey, Duration timeout,
                         long inputPriceMicrosPerMtok, long outputPriceMicrosPerMtok) {

    public Deployment {
        requireNonNull(name, "name");
        requireNonNull(provider, "provider");
        requireNonNull(providerModel, "providerModel");
        requireNonNull(baseUrl, "baseUrl");
        requireNonNull(timeout, "timeout");
        if (inputPriceMicrosPerMtok < 0 || outputPriceMicrosPerMtok < 0) {
            throw new IllegalArgumentException(name + ": prices must be >= 0");
        }
    }

    /** The cost of a call in micro-USD, rounded half up, so that each ledger row is an exact integer. */
    public long costMicros(long promptTokens, long completionTokens) {
        final long scaled = promptTokens * inputPriceMicrosPerMtok + completionTokens * outputPriceMicrosPerMtok;
        return (scaled + 500_000) / 1_000_000;
    }

    @Override
    public String toString() {
        return "Deployment{" + name + ", provider=" + provider + ", model=" + providerModel + ", baseUrl=" + baseUrl
               + ", apiKey=" + (apiKey == null ? "none" : "***") + '}';
    }
}

package ai.sonia.router.domain;

/** One try of one deployment; {@code errorCode} is empty when it answered. */
public record Attempt(String deployment, String errorCode, String errorMessage, long durationMs) {}

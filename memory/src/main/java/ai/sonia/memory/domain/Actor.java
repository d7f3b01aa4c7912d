package ai.sonia.memory.domain;

/** Who asked for a write, and under which correlation id: what the audit log records of it. */
public record Actor(String principal, String correlationId) {}

package ai.sonia.router.domain;

import java.time.LocalDate;

/** A tenant's (or everyone's) usage on one UTC day. */
public record DayTotal(LocalDate day, long promptTokens, long completionTokens, long costMicros) {}

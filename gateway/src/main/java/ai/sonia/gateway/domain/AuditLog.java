package ai.sonia.gateway.domain;

import java.util.List;

/** The security events of each tenant, append-only: nothing appended is ever changed or deleted. */
public interface AuditLog {

    /** A security event as stored; {@code seq} orders them (assigned by the log: 0 when appending). */
    record AuditRow(long seq, String tenant, long timeMs, int kind, boolean success, String actor,
                    String userId, String username, String address, String detail) {}

    /** Appends an event; returns its {@code seq}, greater than every earlier one's. */
    long append(AuditRow row);

    /** Up to {@code limit} events of a tenant with a {@code seq} below {@code beforeSeq}, newest first. */
    List<AuditRow> page(String tenant, long beforeSeq, int limit);
}

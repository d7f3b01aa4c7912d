package ai.sonia.openclaw.domain;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The append-only audit of every tool call: who, what, EVA-OS's decision and its rule, the outcome, how
 * long. Implementations pass {@code AuditLogContract}.
 */
public interface AuditLog extends AutoCloseable {

    /** The longest detail a record keeps; a longer one is cut. */
    int MAX_DETAIL = 2000;

    /** One audit record. */
    record Entry(String id, Instant time, String principal, String sessionId, String correlationId,
                 String tool, String actionHash, String workingDirectory, String decision, String rule,
                 String approvalId, String outcome, int exitCode, long durationMs, String detail) {}

    /**
     * A page of records and the key of its last one ({@code after} of the next page), empty when nothing
     * older remains. Keys are the store's own (opaque to callers).
     */
    record Page(List<Entry> entries, List<String> nextKey) {}

    /** Appends a record (its {@code id} ignored, its detail cut to {@link #MAX_DETAIL}); returns it as stored. */
    Entry append(Entry entry);

    /**
     * Up to {@code limit} records, newest first, after the record whose key is {@code after} (empty for the
     * first page). Records appended meanwhile never shift a page.
     */
    Page list(List<String> after, int limit);

    /** The result remembered for request {@code requestId} of {@code principal} since {@code sinceMs}, if any. */
    Optional<byte[]> response(String principal, String requestId, long sinceMs);

    /**
     * Remembers the result of request {@code requestId} of {@code principal} at {@code nowMs} (one remembered
     * already stays), and forgets every result remembered before {@code forgetBeforeMs}.
     */
    void rememberResponse(String principal, String requestId, byte[] response, long nowMs, long forgetBeforeMs);
}

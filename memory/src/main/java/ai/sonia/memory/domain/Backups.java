package ai.sonia.memory.domain;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.regex.Pattern;

import com.google.protobuf.util.Timestamps;

import ai.sonia.memory.v1.BackupMemoriesRequest;
import ai.sonia.memory.v1.BackupMemoriesResponse;
import ai.sonia.memory.v1.RestoreMemoriesRequest;
import ai.sonia.memory.v1.RestoreMemoriesResponse;
import ai.sonia.runtime.OwnerOnlyFiles;
import ai.sonia.runtime.errors.DomainException;

/**
 * Online backup and restore of the whole ledger, into and from files of one directory (a backup id is a
 * file name there, never a path, so a request cannot read or write elsewhere).
 */
public final class Backups {

    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final DateTimeFormatter STAMP =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    private final MemoryStore store;
    private final AuditLog auditLog;
    private final MemoryIndex index;
    private final Clock clock;
    private final Path directory;

    public Backups(MemoryStore store, AuditLog auditLog, MemoryIndex index, Clock clock, Path directory) {
        this.store = store;
        this.auditLog = auditLog;
        this.index = index;
        this.clock = clock;
        this.directory = directory;
    }

    /** Copies the live ledger into a new backup file. */
    public BackupMemoriesResponse backup(BackupMemoriesRequest request, Access access) {
        access.requireWholeLedger("a backup");
        RequestChecks.noUnknownFields("", request);
        final long nowMs = clock.millis();
        final String id = request.getBackupId().isEmpty() ? "memory-" + STAMP.format(Instant.ofEpochMilli(nowMs))
                                                          : checkedId(request.getBackupId());
        final Path file = file(id);
        if (Files.exists(file)) {
            throw DomainException.alreadyExists("backup", id);
        }
        OwnerOnlyFiles.file(file); // SQLite fills the empty file, keeping its owner-only mode
        store.backup(file);
        try {
            return BackupMemoriesResponse.newBuilder().setBackupId(id).setPath(file.toString())
                                         .setSizeBytes(Files.size(file)).setCreateTime(Timestamps.fromMillis(nowMs))
                                         .build();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the size of " + file, e);
        }
    }

    /** Replaces the live ledger with a backup that passes its integrity check, then reloads the vectors. */
    public RestoreMemoriesResponse restore(RestoreMemoriesRequest request, Access access) {
        access.requireWholeLedger("a restore");
        RequestChecks.noUnknownFields("", request);
        if (request.getBackupId().isEmpty()) {
            throw DomainException.invalidArgument("backup_id", "required");
        }
        final String id = checkedId(request.getBackupId());
        final Path file = file(id);
        if (!Files.isRegularFile(file)) {
            throw DomainException.notFound("backup", id);
        }
        final String problem = store.restoreProblem(file);
        if (problem != null) {
            throw DomainException.conflict(id + ": the backup cannot be restored: " + problem).with("name", id);
        }
        store.restore(file);
        index.reload(store);
        final long nowMs = clock.millis();
        final String record = auditLog.recordRestore(id, access.actor(), nowMs);
        final long memories = store.count();
        return RestoreMemoriesResponse.newBuilder().setBackupId(id).setMemories(memories).setAuditRecord(record)
                                      .build();
    }

    private static String checkedId(String id) {
        if (!ID.matcher(id).matches() || id.startsWith(".")) {
            throw DomainException.invalidArgument("backup_id", "must be 1-64 letters, digits, '.', '_' or '-', not starting"
                                                       + " with '.'");
        }
        return id;
    }

    private Path file(String id) {
        return directory.resolve(id + ".db");
    }
}

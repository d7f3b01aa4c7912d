package ai.sonia.runtime.auth;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

import ai.sonia.runtime.StackConfig;

/**
 * The login sessions (and API keys) whose access tokens must be refused before they expire, shared by every
 * service of a machine through one owner-only file, {@code $SONIA_HOME/secrets/revoked-sessions}: the gateway
 * appends {@code <id> <until epoch ms>} when a user logs out; each service re-reads the file when it changed,
 * looking at most every 200 ms. So a logout reaches every service, not only the gateway, within a fraction
 * of a second. Entries live as long as a token of theirs could (their {@code until}); the file is compacted
 * when it grows.
 */
public final class RevocationList implements Predicate<String> {

    /** The {@code sid} of tokens exchanged for an API key: {@code key:<key id>:<n>}; revoking the key ends all. */
    public static final String KEY_PREFIX = "key:";

    private static final long CHECK_EVERY_NANOS = 200_000_000L;
    private static final int COMPACT_ABOVE_LINES = 10_000;
    private static final Map<Path, RevocationList> lists = new ConcurrentHashMap<>();

    private final Path file;
    private volatile Map<String, Long> revoked = Map.of();
    private volatile FileTime loadedVersion;
    private volatile long checkedNanos = System.nanoTime() - CHECK_EVERY_NANOS;

    private RevocationList(Path file) {
        this.file = file;
    }

    /** The list of the stack {@code config} names (one per file in a JVM). */
    public static RevocationList of(StackConfig config) {
        return lists.computeIfAbsent(Secrets.directory(config).resolve("revoked-sessions"), RevocationList::new);
    }

    /** Refuses the tokens of {@code id} (a login session id, or {@code key:<key id>}) until {@code untilMs}. */
    public synchronized void revoke(String id, long untilMs) {
        if (id.isEmpty() || id.indexOf(' ') >= 0 || id.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("not a session id: " + id);
        }
        try {
            Secrets.createOwnerOnlyDirectory(file.getParent());
            if (!Files.exists(file)) {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            }
            Files.writeString(file, id + ' ' + untilMs + '\n', StandardCharsets.US_ASCII, StandardOpenOption.APPEND);
            final Map<String, Long> current = load();
            if (current.size() > COMPACT_ABOVE_LINES || Files.size(file) > COMPACT_ABOVE_LINES * 64L) {
                compact(current);
            }
            checkedNanos = System.nanoTime() - CHECK_EVERY_NANOS; // the next test re-reads
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record a revocation in " + file, e);
        }
    }

    /** Whether tokens of login session {@code sid} are refused. */
    @Override
    public boolean test(String sid) {
        refreshIfStale();
        final Map<String, Long> current = revoked;
        if (current.isEmpty()) {
            return false;
        }
        final long now = System.currentTimeMillis();
        final Long until = current.get(sid);
        if (until != null && until > now) {
            return true;
        }
        if (sid.startsWith(KEY_PREFIX)) {
            final int end = sid.indexOf(':', KEY_PREFIX.length());
            final Long keyUntil = current.get(end < 0 ? sid : sid.substring(0, end));
            return keyUntil != null && keyUntil > now;
        }
        return false;
    }

    private void refreshIfStale() {
        final long now = System.nanoTime();
        if (now - checkedNanos < CHECK_EVERY_NANOS) {
            return;
        }
        checkedNanos = now;
        try {
            final FileTime version = Files.getLastModifiedTime(file);
            if (!version.equals(loadedVersion)) {
                load();
            }
        } catch (NoSuchFileException e) {
            revoked = Map.of();
        } catch (IOException e) {
            // Unreadable now: keep the last known list rather than forget revocations.
        }
    }

    private synchronized Map<String, Long> load() throws IOException {
        final FileTime version = Files.getLastModifiedTime(file);
        final long now = System.currentTimeMillis();
        final Map<String, Long> read = new HashMap<>();
        for (String line : Files.readAllLines(file, StandardCharsets.US_ASCII)) {
            final int space = line.indexOf(' ');
            if (space <= 0) {
                continue;
            }
            try {
                final long until = Long.parseLong(line.substring(space + 1).trim());
                if (until > now) {
                    read.merge(line.substring(0, space), until, Math::max);
                }
            } catch (NumberFormatException ignored) {
                // a torn last line while the gateway appends: read again at the next change
            }
        }
        revoked = Map.copyOf(read);
        loadedVersion = version;
        return read;
    }

    private void compact(Map<String, Long> live) throws IOException {
        final Path temp = Files.createTempFile(file.getParent(), "revoked-sessions.", ".tmp",
                                               PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        final StringBuilder lines = new StringBuilder();
        live.forEach((id, until) -> lines.append(id).append(' ').append(until).append('\n'));
        Files.writeString(temp, lines, StandardCharsets.US_ASCII);
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}

package ai.sonia.runtime;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The one place where services make their data directories, databases, logs and secrets: owner-only
 * ({@code 0700} directories, {@code 0600} files), as a {@code umask 077} would, since Java has no umask.
 * Made with the mode from the start (never a readable moment), and tightened when an older run left them
 * looser. SQLite gives its {@code -wal} and {@code -shm} files the mode of the database file, so a database
 * made here stays owner-only with its companions.
 */
public final class OwnerOnlyFiles {

    private static final Set<PosixFilePermission> DIRECTORY = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");
    private static final FileAttribute<Set<PosixFilePermission>> DIRECTORY_MODE =
            PosixFilePermissions.asFileAttribute(DIRECTORY);
    private static final FileAttribute<Set<PosixFilePermission>> FILE_MODE = PosixFilePermissions.asFileAttribute(FILE);

    /** The attribute that creates a file owner-only, for {@code Files.createFile}/{@code createTempFile}. */
    public static FileAttribute<Set<PosixFilePermission>> fileMode() {
        return FILE_MODE;
    }

    /** Makes {@code directory} (and its missing parents) owner-only; tightens it if it exists. */
    public static Path directory(Path directory) {
        try {
            Files.createDirectories(directory, DIRECTORY_MODE);
            tighten(directory, DIRECTORY);
            return directory;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the directory " + directory, e);
        }
    }

    /** Makes an empty owner-only {@code file} in an owner-only directory unless it exists; tightens it if it does. */
    public static Path file(Path file) {
        final Path absolute = file.toAbsolutePath();
        directory(absolute.getParent());
        try {
            Files.createFile(absolute, FILE_MODE);
        } catch (FileAlreadyExistsException exists) {
            try {
                tighten(absolute, FILE);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot restrict " + file, e);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + file, e);
        }
        return file;
    }

    /**
     * Replaces {@code file} with {@code content} (UTF-8) at once and owner-only: a reader sees the old file or the
     * whole new one, never half of it (a key, a certificate, a run file).
     */
    public static void writeAtomically(Path file, String content) throws IOException {
        final Path temp = Files.createTempFile(file.toAbsolutePath().getParent(), file.getFileName() + ".", ".tmp",
                                               FILE_MODE);
        try {
            Files.writeString(temp, content);
            Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /**
     * Prepares a SQLite database at {@code file} to be opened: the file and its directory owner-only, and any
     * {@code -wal}, {@code -shm} or {@code -journal} an older run left, tightened.
     */
    public static void sqlite(Path file) {
        final Path absolute = file(file).toAbsolutePath();
        for (String suffix : new String[] {"-wal", "-shm", "-journal"}) {
            final Path companion = absolute.resolveSibling(absolute.getFileName() + suffix);
            try {
                if (Files.exists(companion)) {
                    tighten(companion, FILE);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot restrict " + companion, e);
            }
        }
    }

    /**
     * The password held in {@code file} (trimmed), for config key {@code key}, never in a message. The file must
     * be private as PostgreSQL requires of its own key file: owned by this process's user with no access for
     * group or others ({@code chmod 600}), or owned by root, readable by its group at most and not by others
     * (how Kubernetes mounts a Secret for a pod's {@code fsGroup}: {@code root:<fsGroup> 0440}).
     *
     * @throws IllegalArgumentException when it is missing, empty or not private
     */
    public static String readPassword(Path file, String key) {
        try {
            final Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
            final String owner = Files.getOwner(file).getName();
            final boolean others = mode.stream().anyMatch(p -> p.name().startsWith("OTHERS"));
            final boolean group = mode.stream().anyMatch(p -> p.name().startsWith("GROUP"));
            final boolean ownOnly = owner.equals(System.getProperty("user.name")) && !group;
            final boolean rootSecret = "root".equals(owner) && !mode.contains(PosixFilePermission.GROUP_WRITE)
                                       && !mode.contains(PosixFilePermission.GROUP_EXECUTE);
            if (others || !ownOnly && !rootSecret) {
                throw new IllegalArgumentException(key + ": " + file + " must be owner-only (chmod 600), or a "
                                                   + "mounted secret owned by root that others cannot read");
            }
            final String password = Files.readString(file, java.nio.charset.StandardCharsets.UTF_8).strip();
            if (password.isEmpty()) {
                throw new IllegalArgumentException(key + ": " + file + " is empty");
            }
            return password;
        } catch (IOException e) {
            throw new IllegalArgumentException(key + ": cannot read " + file + " (" + e.getClass().getSimpleName()
                                               + ')', e);
        }
    }

    private static void tighten(Path path, Set<PosixFilePermission> mode) throws IOException {
        if (!Files.getPosixFilePermissions(path).equals(mode)) {
            Files.setPosixFilePermissions(path, mode);
        }
    }

    private OwnerOnlyFiles() {}
}

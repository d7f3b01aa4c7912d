package ai.sonia.openclaw.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.runtime.errors.DomainException;

/**
 * The disk quota of one tenant's workspace: the bytes of its files (symbolic links never followed).
 * Java writes check before writing; a program that may write gets no file larger than what is left
 * ({@code prlimit --fsize}), and what it created is removed again when the workspace ends up over the
 * quota anyway (many files, each under the limit).
 */
public final class WorkspaceQuota {

    /** 100 MiB per tenant unless configured. */
    public static final long DEFAULT_BYTES = 100L << 20;

    private final long bytes;

    public WorkspaceQuota(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("quotaBytes: " + bytes + " (expected: > 0)");
        }
        this.bytes = bytes;
    }

    /** The quota in bytes. */
    public long bytes() {
        return bytes;
    }

    /** Bytes used by the files under {@code root}. */
    public long used(Path root) {
        final long[] sum = new long[1];
        walk(root, (p, a) -> sum[0] += a.isRegularFile() ? a.size() : 0);
        return sum[0];
    }

    /** Throws RATE_LIMITED when adding {@code adding} bytes and freeing {@code freeing} would not fit. */
    public void check(Path root, long adding, long freeing) {
        final long used = used(root);
        if (used - freeing + adding > bytes) {
            throw exceeded("workspace quota exceeded: " + used + " bytes used of " + bytes + ", this write needs "
                           + Math.max(0, adding - freeing) + " more; delete files or ask the operator to raise "
                           + "services.openclaw.quotaBytes", used);
        }
    }

    /** The bytes still free under {@code root}; throws RATE_LIMITED when none are. */
    public long remaining(Path root) {
        final long used = used(root);
        if (used >= bytes) {
            throw exceeded("workspace quota exceeded: " + used + " bytes used of " + bytes
                           + "; delete files or ask the operator to raise services.openclaw.quotaBytes", used);
        }
        return bytes - used;
    }

    /**
     * Every path under {@code root} (not following links) with, for a symbolic link, its target: what
     * existed before a program ran.
     */
    public static Map<Path, String> snapshot(Path root) {
        final Map<Path, String> paths = new HashMap<>();
        walk(root, (p, a) -> paths.put(p, a.isSymbolicLink() ? linkTarget(p) : ""));
        return paths;
    }

    private static String linkTarget(Path link) {
        try {
            return Files.readSymbolicLink(link).toString();
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * After a program ran: when the workspace is over quota, removes what it created (paths not in
     * {@code before}) and throws RATE_LIMITED.
     */
    public void enforceAfter(Path root, Map<Path, String> before) {
        final long used = used(root);
        if (used <= bytes) {
            return;
        }
        final List<Path> created = new ArrayList<>();
        walk(root, (p, a) -> {
            if (!before.containsKey(p)) {
                created.add(p);
            }
        });
        created.sort(Comparator.comparingInt(Path::getNameCount).reversed());
        for (Path p : created) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                // A directory that still holds older files: left.
            }
        }
        throw exceeded("workspace quota exceeded: after the program the workspace held " + used + " bytes of a "
                       + bytes + "-byte quota; the " + created.size() + " files it created were removed", used);
    }

    /** RATE_LIMITED: a write would take the workspace past its quota. */
    private DomainException exceeded(String message, long used) {
        return DomainException.of(ErrorCode.ERROR_CODE_RATE_LIMITED, message,
                                  Map.of("quota_bytes", String.valueOf(bytes), "used_bytes", String.valueOf(used)));
    }

    private interface Visitor {
        void visit(Path path, BasicFileAttributes attrs);
    }

    private static void walk(Path root, Visitor visitor) {
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    if (!dir.equals(root)) {
                        visitor.visit(dir, attrs);
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    visitor.visit(file, attrs);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) {
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (NoSuchFileException e) {
            // Nothing there yet.
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * After a program that could write: removes every symbolic link it made (not in {@code before}, or
     * pointing elsewhere now) that is absolute or leads out of {@code root} (relative links that stay inside
     * are kept), removes FIFOs, sockets and device nodes (a Java tool opening a FIFO would block), and clears
     * set-user-id, set-group-id and sticky bits (a tar extracted by the jail's root keeps them otherwise).
     * Returns what was removed, relative to the root.
     */
    public static List<String> stripEscapingLinks(Path root, Map<Path, String> before) {
        final List<String> removed = new ArrayList<>();
        walk(root, (p, a) -> {
            if (a.isOther()) {
                try {
                    Files.deleteIfExists(p);
                    removed.add(root.relativize(p).toString());
                } catch (IOException e) {
                    // Gone meanwhile.
                }
                return;
            }
            if (!a.isSymbolicLink()) {
                clearSpecialBits(p);
                return;
            }
            if (linkTarget(p).equals(before.get(p))) {
                return;
            }
            try {
                final Path target = Files.readSymbolicLink(p);
                final Path resolved = p.getParent().resolve(target).normalize();
                if (target.isAbsolute() || !resolved.startsWith(root) || escapesThroughLinks(root, resolved)) {
                    Files.deleteIfExists(p);
                    removed.add(root.relativize(p).toString());
                }
            } catch (IOException e) {
                // Gone meanwhile.
            }
        });
        return removed;
    }

    private static void clearSpecialBits(Path p) {
        try {
            final int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            if ((mode & 07000) != 0) {
                // chmod with the rwx bits only: the special bits go.
                Files.setPosixFilePermissions(p, Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
            }
        } catch (IOException | UnsupportedOperationException e) {
            // Gone meanwhile, or no POSIX modes here.
        }
    }

    /** True when a lexically inside target still resolves outside (through another link). */
    private static boolean escapesThroughLinks(Path root, Path target) {
        try {
            return Files.exists(target, LinkOption.NOFOLLOW_LINKS) && !target.toRealPath().startsWith(root);
        } catch (IOException e) {
            return false;
        }
    }
}

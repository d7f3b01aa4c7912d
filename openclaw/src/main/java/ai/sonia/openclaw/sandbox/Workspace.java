package ai.sonia.openclaw.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

import ai.sonia.runtime.OwnerOnlyFiles;
import ai.sonia.runtime.errors.DomainException;

/**
 * The directory every tool works in. A path from a call is accepted only if it is relative, has no
 * {@code ..} segment, and its real path (every symlink followed, checked at the moment of use) stays
 * under the real root. Callers then open the returned real path with {@code NOFOLLOW_LINKS}.
 */
public final class Workspace {

    private final Path root;

    /** Creates the root if needed and remembers its real path. */
    public Workspace(Path root) {
        try {
            OwnerOnlyFiles.directory(root);
            this.root = root.toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create workspace " + root, e);
        }
    }

    /** The real path of the root. */
    public Path root() {
        return root;
    }

    /**
     * Resolves {@code relative} (empty for the root) to a real path inside the workspace. A path that
     * does not exist yet is accepted when its deepest existing ancestor is inside and nothing after
     * it exists. Throws {@link DomainException} naming {@code field} otherwise.
     */
    public Path resolve(String relative, String field) {
        final Path lexical = lexical(relative, field);
        Path existing = lexical;
        while (!Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
            existing = existing.getParent();
        }
        final Path real;
        try {
            real = existing.toRealPath();
        } catch (IOException e) {
            // A dangling symlink: its target is outside our knowledge, so refuse it.
            throw DomainException.invalidArgument(field, "cannot resolve " + relative + ": " + e.getMessage());
        }
        if (!real.startsWith(root)) {
            throw DomainException.invalidArgument(field, "escapes the workspace through a symbolic link: " + relative);
        }
        return real.resolve(existing.relativize(lexical));
    }

    /** The path relative to the root, with '/' separators, for output. */
    public String relative(Path real) {
        final String s = root.relativize(real).toString();
        return s.isEmpty() ? "." : s;
    }

    private Path lexical(String relative, String field) {
        if (relative.indexOf('\0') >= 0) {
            throw DomainException.invalidArgument(field, "contains a NUL character");
        }
        if (relative.startsWith("/") || relative.startsWith("\\") || relative.startsWith("~")) {
            throw DomainException.invalidArgument(field, "must be relative to the workspace: " + relative);
        }
        for (String segment : relative.split("[/\\\\]")) {
            if (segment.equals("..")) {
                throw DomainException.invalidArgument(field, "must not contain '..': " + relative);
            }
        }
        final Path lexical = root.resolve(relative).normalize();
        if (!lexical.startsWith(root)) {
            throw DomainException.invalidArgument(field, "escapes the workspace: " + relative);
        }
        return lexical;
    }
}

package ai.sonia.openclaw.tools;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import ai.sonia.openclaw.sandbox.Workspace;
import ai.sonia.openclaw.sandbox.WorkspaceQuota;
import ai.sonia.openclaw.v1.FileDeleteArguments;
import ai.sonia.openclaw.v1.FileListArguments;
import ai.sonia.openclaw.v1.FileReadArguments;
import ai.sonia.openclaw.v1.FileSearchArguments;
import ai.sonia.openclaw.v1.FileWriteArguments;
import ai.sonia.runtime.errors.DomainException;

/**
 * The file tools, in the caller's tenant's workspace. Every path goes through {@link Workspace#resolve}
 * right before use, files are opened with {@code NOFOLLOW_LINKS}, and walks never follow symbolic links.
 */
final class FileTools {

    private static final long SEARCH_FILE_LIMIT = 4L << 20;

    private final WorkspaceQuota quota;

    FileTools(WorkspaceQuota quota) {
        this.quota = quota;
    }

    ToolOutcome read(FileReadArguments args, ToolCall call) {
        final Workspace workspace = call.workspace();
        final Path file = workspace.resolve(args.getPath(), "arguments.path");
        final int max = args.getMaxBytes() > 0 ? (int) args.getMaxBytes() : 65_536;
        if (args.getOffset() < 0) {
            throw DomainException.invalidArgument("arguments.offset", args.getOffset() + " (expected: >= 0)");
        }
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            throw DomainException.invalidArgument("arguments.path", "not a regular file: " + args.getPath());
        }
        try (SeekableByteChannel channel = Files.newByteChannel(file, Set.of(StandardOpenOption.READ,
                                                                              LinkOption.NOFOLLOW_LINKS))) {
            final long size = channel.size();
            channel.position(Math.min(args.getOffset(), size));
            final ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(max, Math.max(0, size - args.getOffset())));
            while (buffer.hasRemaining() && channel.read(buffer) > 0) {
                // Reads until the buffer is full or the file ends.
            }
            final Map<String, Object> out = new LinkedHashMap<>();
            out.put("path", workspace.relative(file));
            out.put("content", new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8));
            out.put("size", size);
            out.put("truncated", args.getOffset() + buffer.position() < size);
            return ToolOutcome.of(Outputs.struct(out));
        } catch (NoSuchFileException e) {
            throw DomainException.invalidArgument("arguments.path", "no such file: " + args.getPath());
        } catch (IOException e) {
            throw DomainException.invalidArgument("arguments.path", "cannot read " + args.getPath() + ": " + e);
        }
    }

    ToolOutcome write(FileWriteArguments args, ToolCall call) {
        final Workspace workspace = call.workspace();
        final Path file = workspace.resolve(args.getPath(), "arguments.path");
        if (file.equals(workspace.root())) {
            throw DomainException.invalidArgument("arguments.path", "is the workspace root");
        }
        try {
            if (args.getCreateParents()) {
                Files.createDirectories(file.getParent());
                // Re-check: a directory we just walked through may be a symlink planted meanwhile.
                workspace.resolve(args.getPath(), "arguments.path");
            }
            final List<OpenOption> options = new ArrayList<>(List.of(StandardOpenOption.WRITE,
                    StandardOpenOption.CREATE, LinkOption.NOFOLLOW_LINKS));
            options.add(args.getAppend() ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING);
            final byte[] bytes = args.getContent().getBytes(StandardCharsets.UTF_8);
            final long existing = Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) ? Files.size(file) : 0;
            quota.check(workspace.root(), bytes.length, args.getAppend() ? 0 : existing);
            try (SeekableByteChannel channel = Files.newByteChannel(file, Set.copyOf(options))) {
                channel.write(ByteBuffer.wrap(bytes));
            }
            return ToolOutcome.of(Outputs.struct(Map.of("path", workspace.relative(file), "bytes_written",
                                                        bytes.length)));
        } catch (NoSuchFileException e) {
            throw DomainException.invalidArgument("arguments.path", "parent directory does not exist: " + args.getPath());
        } catch (IOException e) {
            throw DomainException.invalidArgument("arguments.path", "cannot write " + args.getPath() + ": " + e);
        }
    }

    ToolOutcome list(FileListArguments args, ToolCall call) {
        final Workspace workspace = call.workspace();
        final Path dir = workspace.resolve(args.getPath(), "arguments.path");
        final int max = args.getMaxEntries() > 0 ? args.getMaxEntries() : 1000;
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw DomainException.invalidArgument("arguments.path", "not a directory: " + args.getPath());
        }
        final List<Object> entries = new ArrayList<>();
        boolean truncated = false;
        try (Stream<Path> walk = args.getRecursive() ? Files.walk(dir) : Files.list(dir)) {
            final List<Path> paths = walk.filter(p -> !p.equals(dir)).sorted().limit(max + 1L).toList();
            truncated = paths.size() > max;
            for (Path p : paths.subList(0, Math.min(max, paths.size()))) {
                final BasicFileAttributes attrs = Files.readAttributes(p, BasicFileAttributes.class,
                                                                       LinkOption.NOFOLLOW_LINKS);
                final String type = attrs.isSymbolicLink() ? "symlink" : attrs.isDirectory() ? "directory"
                                                                                             : "file";
                entries.add(Map.of("path", workspace.root().relativize(p).toString(), "type", type,
                                   "size", attrs.size()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return ToolOutcome.of(Outputs.struct(Map.of("entries", entries, "truncated", truncated)));
    }

    ToolOutcome search(FileSearchArguments args, ToolCall call) {
        final Workspace workspace = call.workspace();
        final Path dir = workspace.resolve(args.getPath(), "arguments.path");
        final int max = args.getMaxResults() > 0 ? args.getMaxResults() : 100;
        final PathMatcher glob = args.getGlob().isEmpty() ? p -> true
                                                          : dir.getFileSystem().getPathMatcher("glob:" + args.getGlob());
        final List<Object> matches = new ArrayList<>();
        boolean truncated = false;
        try (Stream<Path> walk = Files.walk(dir)) {
            final List<Path> files = walk.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
                                         .filter(p -> glob.matches(p.getFileName()))
                                         .sorted(Comparator.naturalOrder()).toList();
            outer:
            for (Path file : files) {
                if (Files.size(file) > SEARCH_FILE_LIMIT) {
                    continue;
                }
                try (BufferedReader reader = new BufferedReader(new InputStreamReader(
                        Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS), StandardCharsets.UTF_8))) {
                    String line;
                    int number = 0;
                    while ((line = reader.readLine()) != null) {
                        number++;
                        if (line.contains(args.getQuery())) {
                            if (matches.size() == max) {
                                truncated = true;
                                break outer;
                            }
                            matches.add(Map.of("path", workspace.root().relativize(file).toString(),
                                               "line", number, "text", line.length() > 500 ? line.substring(0, 500)
                                                                                            : line));
                        }
                    }
                } catch (IOException | UncheckedIOException e) {
                    // Unreadable or binary file: skipped, like grep -I.
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return ToolOutcome.of(Outputs.struct(Map.of("matches", matches, "truncated", truncated)));
    }

    ToolOutcome delete(FileDeleteArguments args, ToolCall call) {
        final Workspace workspace = call.workspace();
        final Path target = workspace.resolve(args.getPath(), "arguments.path");
        if (target.equals(workspace.root())) {
            throw DomainException.invalidArgument("arguments.path", "the workspace root cannot be deleted");
        }
        if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            return ToolOutcome.of(Outputs.struct(Map.of("path", args.getPath(), "deleted", 0)));
        }
        int deleted = 0;
        try {
            if (args.getRecursive() && Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                try (Stream<Path> walk = Files.walk(target)) {
                    for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                        Files.delete(p);
                        deleted++;
                    }
                }
            } else {
                Files.delete(target);
                deleted = 1;
            }
        } catch (DirectoryNotEmptyException e) {
            throw DomainException.invalidArgument("arguments.recursive", "directory not empty: " + args.getPath());
        } catch (IOException e) {
            throw DomainException.invalidArgument("arguments.path", "cannot delete " + args.getPath() + ": " + e);
        }
        return ToolOutcome.of(Outputs.struct(Map.of("path", args.getPath(), "deleted", deleted)));
    }
}

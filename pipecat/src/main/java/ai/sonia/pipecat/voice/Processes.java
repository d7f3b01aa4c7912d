package ai.sonia.pipecat.voice;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs an engine's process with input, a timeout and its output captured. */
final class Processes {

    /** Runs {@code command} feeding {@code stdin}; its stdout, or IOException on failure or timeout. */
    static byte[] run(List<String> command, byte[] stdin, long timeoutSeconds) throws IOException {
        final Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        final CompletableFuture<byte[]> output = CompletableFuture.supplyAsync(() -> {
            try (InputStream in = process.getInputStream()) {
                return in.readAllBytes();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        try (OutputStream in = process.getOutputStream()) {
            in.write(stdin);
        }
        try {
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(command.get(0) + " timed out after " + timeoutSeconds + " s");
            }
            if (process.exitValue() != 0) {
                throw new IOException(command.get(0) + " exited with " + process.exitValue());
            }
            return output.get(timeoutSeconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException(command.get(0) + " interrupted", e);
        } catch (Exception e) {
            if (e instanceof IOException io) {
                throw io;
            }
            throw new IOException(command.get(0) + " failed: " + e.getMessage(), e);
        }
    }

    /** Whether an executable named {@code name} is on the PATH. */
    static boolean onPath(String name) {
        final String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, name))) {
                return true;
            }
        }
        return false;
    }

    private Processes() {}
}

package ai.sonia.gateway.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** Runs Debian's h2load (HTTP/2, REST and gRPC alike) and reads each request's latency from its log. */
final class H2load {

    record Result(int requests, int failed, double rps, double p50, double p99) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%d requests, %d failed, %.0f req/s, p50 %.2f ms, p99 %.2f ms",
                                 requests, failed, rps, p50, p99);
        }
    }

    static Result run(Path work, String url, Path body, String contentType, int clients, int requests, String token)
            throws IOException, InterruptedException {
        final Path log = work.resolve("h2load.log");
        Files.deleteIfExists(log);
        final List<String> command = new java.util.ArrayList<>(List.of(
                "h2load", "-n", String.valueOf(requests), "-c", String.valueOf(clients), "-m", "1",
                "-d", body.toString(), "-H", "content-type: " + contentType,
                "-H", "authorization: Bearer " + token, "--log-file", log.toString()));
        if (contentType.startsWith("application/grpc")) {
            command.addAll(List.of("-H", "te: trailers"));
        }
        command.add(url);
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String output = new String(process.getInputStream().readAllBytes());
        if (process.waitFor() != 0) {
            throw new IllegalStateException("h2load failed: " + output);
        }
        // Log lines: <start µs> <status> <latency µs>
        final List<String> lines = Files.readAllLines(log);
        final double[] latencies = lines.stream().mapToDouble(l -> Long.parseLong(l.split("\t")[2]) / 1000.0).sorted().toArray();
        final int failed = (int) lines.stream().filter(l -> !"200".equals(l.split("\t")[1])).count();
        final double seconds = parseSeconds(output);
        return new Result(latencies.length, failed + (requests - latencies.length), latencies.length / seconds,
                          percentile(latencies, 50), percentile(latencies, 99));
    }

    static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        final int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    /** "finished in 1.23s, ..." */
    private static double parseSeconds(String output) {
        for (String line : output.split("\n")) {
            if (line.startsWith("finished in ")) {
                final String value = line.substring("finished in ".length(), line.indexOf(','));
                if (value.endsWith("ms")) {
                    return Double.parseDouble(value.substring(0, value.length() - 2)) / 1000;
                }
                return Double.parseDouble(value.substring(0, value.length() - 1));
            }
        }
        throw new IllegalStateException("no duration in h2load output: " + Arrays.toString(output.split("\n")));
    }

    private H2load() {}
}

package ai.sonia.gateway.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** Runs Debian's h2load (HTTP/2, REST and gRPC alike) and reads each request's latency from its log. */
final class H2load {

    /** One h2load target: a URL, its request body and content type. */
    record Target(String url, Path body, String contentType) {}

    record Result(int requests, int failed, double rps, double p50, double p99) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%d requests, %d failed, %.0f req/s, p50 %.2f ms, p99 %.2f ms",
                                 requests, failed, rps, p50, p99);
        }
    }

    static Result run(Path work, String url, Path body, String contentType, int clients, int requests, String token)
            throws IOException, InterruptedException {
        return run(work, new Target(url, body, contentType), clients, requests, token).result();
    }

    /**
     * Runs the targets in blocks of {@code block} requests, alternating (and rotating the order every round),
     * so that each sees the same machine load; latencies are pooled per target over all blocks.
     */
    static List<Result> interleaved(Path work, List<Target> targets, int clients, int requests, int block, String token)
            throws IOException, InterruptedException {
        final int size = Math.max(clients, Math.min(block, requests));
        final List<Raw> raws = new java.util.ArrayList<>();
        targets.forEach(t -> raws.add(new Raw(new double[0], 0, 0)));
        for (int done = 0, round = 0; done < requests; done += size, round++) {
            final int n = Math.max(clients, Math.min(size, requests - done));
            for (int k = 0; k < targets.size(); k++) {
                final int i = (k + round) % targets.size();
                raws.set(i, raws.get(i).plus(run(work, targets.get(i), clients, n, token)));
            }
        }
        return raws.stream().map(Raw::result).toList();
    }

    /** One run's or several pooled runs' latencies (ms), failures and wall time. */
    private record Raw(double[] latencies, int failed, double seconds) {
        Raw plus(Raw other) {
            final double[] all = Arrays.copyOf(latencies, latencies.length + other.latencies.length);
            System.arraycopy(other.latencies, 0, all, latencies.length, other.latencies.length);
            return new Raw(all, failed + other.failed, seconds + other.seconds);
        }

        Result result() {
            final double[] sorted = latencies.clone();
            Arrays.sort(sorted);
            return new Result(sorted.length, failed, sorted.length / seconds, percentile(sorted, 50), percentile(sorted, 99));
        }
    }

    private static Raw run(Path work, Target target, int clients, int requests, String token)
            throws IOException, InterruptedException {
        final String url = target.url();
        final Path body = target.body();
        final String contentType = target.contentType();
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
        final double[] latencies = lines.stream().mapToDouble(l -> Long.parseLong(l.split("\t")[2]) / 1000.0).toArray();
        final int failed = (int) lines.stream().filter(l -> !"200".equals(l.split("\t")[1])).count();
        return new Raw(latencies, failed + (requests - latencies.length), parseSeconds(output));
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

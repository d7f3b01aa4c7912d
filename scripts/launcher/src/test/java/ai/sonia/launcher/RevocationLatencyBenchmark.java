package ai.sonia.launcher;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.sonia.runtime.auth.Secrets;

/**
 * How long a token derived from a user keeps working after the user changes, at each of the six services.
 * Each round registers a user with an API key, exchanges the key for an access token, checks that the token
 * works at every service, then changes the user and polls {@code GET /status} at every service at once until
 * each answers 401; the latency is from the start of the change to that service's first 401.
 * <ul>
 *   <li>"gateway API": the admin demotes, disables or deletes the user, or the user deletes the key
 *       (rotating), through the real gateway, with the six services in one JVM as {@code scripts/sonia up}
 *       runs them;</li>
 *   <li>"other process": the gateway's line is appended to the shared file from outside the services' view,
 *       so each notices it the way a service in its own process ({@code up --separate}) does: by re-reading
 *       the changed file, looked at no more than every 200 ms.</li>
 * </ul>
 * Run with {@code scripts/bench-revocation [rounds]}; prints markdown.
 */
public final class RevocationLatencyBenchmark {

    private static final ObjectMapper mapper = new ObjectMapper();
    private static final HttpClient http = HttpClient.newHttpClient();
    private static final List<String> SERVICES = List.of("gateway", "router", "memory", "pipecat", "openclaw", "evaos");
    private static final List<String> CHANGES = List.of("demote", "disable", "delete key", "delete user");

    private static InProcessStack stack;

    public static void main(String[] args) throws Exception {
        final int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 40;
        final Path out = Path.of(args.length > 1 ? args[1] : "target/bench-revocation.md");
        stack = new InProcessStack("bench-revocation",
                                   "{\"services\":{\"gateway\":{\"auth\":{\"bcryptCost\":4,"
                                   + "\"loginThrottle\":{\"loginsPerMinute\":100000}}}}}");
        final ExecutorService pollers = Executors.newFixedThreadPool(SERVICES.size());
        try {
            final String password = Files.readString(stack.config().home().resolve("secrets/admin-password")).trim();
            final String admin = login("admin", password);
            final Map<String, Map<String, List<Double>>> results = new LinkedHashMap<>();
            results.put("gateway API", new LinkedHashMap<>());
            results.put("other process", new LinkedHashMap<>());
            for (int round = -2; round < rounds; round++) { // two rounds warm up
                for (String mode : results.keySet()) {
                    final String name = "u" + (round + 2) + (mode.startsWith("g") ? "g" : "p");
                    final JsonNode user = data(send("POST", "/api/auth/register", admin,
                                                    "{\"username\":\"" + name + "\",\"password\":\"password-of-" + name
                                                    + "\",\"role\":\"ROLE_ADMIN\"}"));
                    final String token = login(name, "password-of-" + name);
                    final JsonNode key = data(send("POST", "/api/keys", token, "{\"name\":\"k\"}"));
                    final String keyToken = data(send("POST", "/api/auth/token", key.at("/secret").asText(), "{}"))
                            .at("/access_token").asText();
                    for (String service : SERVICES) {
                        if (status(service, keyToken) != 200) {
                            throw new IllegalStateException(service + " refused a fresh token");
                        }
                    }
                    final String change = CHANGES.get(Math.floorMod(round, CHANGES.size()));
                    final long start = System.nanoTime();
                    final List<CompletableFuture<Long>> refused = new ArrayList<>();
                    if (mode.startsWith("g")) {
                        final String userPath = "/api/users/" + user.at("/user_id").asText();
                        final HttpResponse<String> changed = switch (change) {
                            case "demote" -> send("PUT", userPath, admin, "{\"role\":\"ROLE_USER\"}");
                            case "disable" -> send("PUT", userPath, admin, "{\"disabled\":true}");
                            case "delete key" -> send("DELETE", "/api/keys/" + key.at("/key/key_id").asText(), token, null);
                            default -> send("DELETE", userPath, admin, null);
                        };
                        data(changed);
                    } else {
                        final long now = System.currentTimeMillis();
                        Files.writeString(Secrets.directory(stack.config()).resolve("revoked-sessions"),
                                          "user:" + user.at("/tenant").asText() + '/' + user.at("/user_id").asText()
                                          + ' ' + (now + 900_000) + ' ' + now + " none\n",
                                          StandardCharsets.US_ASCII, StandardOpenOption.APPEND);
                    }
                    for (String service : SERVICES) {
                        refused.add(CompletableFuture.supplyAsync(() -> pollUntilRefused(service, keyToken, start),
                                                                  pollers));
                    }
                    for (int i = 0; i < SERVICES.size(); i++) {
                        final double ms = refused.get(i).join() / 1e6;
                        if (round >= 0) {
                            results.get(mode).computeIfAbsent(SERVICES.get(i), s -> new ArrayList<>()).add(ms);
                        }
                    }
                }
            }
            final StringBuilder md = new StringBuilder("## Revocation latency after an owner change (")
                    .append(rounds).append(" rounds each)\n\n")
                    .append("| service | gateway API p50 ms | p99 ms | max ms | other process p50 ms | p99 ms | max ms |\n")
                    .append("|---|---|---|---|---|---|---|\n");
            for (String service : SERVICES) {
                md.append("| ").append(service);
                for (String mode : results.keySet()) {
                    final List<Double> samples = results.get(mode).get(service);
                    samples.sort(null);
                    md.append(String.format(" | %.1f | %.1f | %.1f", percentile(samples, 0.50),
                                            percentile(samples, 0.99), samples.get(samples.size() - 1)));
                }
                md.append(" |\n");
            }
            Files.writeString(out, md);
            System.out.print(md);
        } finally {
            pollers.shutdownNow();
            stack.close();
        }
    }

    private static long pollUntilRefused(String service, String token, long start) {
        final long deadline = start + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (status(service, token) == 401) {
                return System.nanoTime() - start;
            }
        }
        throw new IllegalStateException(service + " still accepts a revoked token after 10 s");
    }

    private static double percentile(List<Double> sorted, double p) {
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p * sorted.size()) - 1));
    }

    private static int status(String service, String token) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + stack.port(service) + "/status"))
                                        .header("authorization", "Bearer " + token).GET().build(),
                             HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String login(String username, String password) throws Exception {
        return data(send("POST", "/api/auth/login", null,
                         "{\"username\":\"" + username + "\",\"password\":\"" + password + "\"}"))
                .at("/access_token").asText();
    }

    private static HttpResponse<String> send(String method, String path, String token, String json) throws Exception {
        final HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + stack.port("gateway") + path))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody()
                                             : HttpRequest.BodyPublishers.ofString(json));
        if (json != null) {
            request.header("content-type", "application/json");
        }
        if (token != null) {
            request.header("authorization", "Bearer " + token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode data(HttpResponse<String> response) throws Exception {
        if (response.statusCode() != 200) {
            throw new IllegalStateException(response.statusCode() + " " + response.body());
        }
        return mapper.readTree(response.body()).get("data");
    }

    private RevocationLatencyBenchmark() {}
}

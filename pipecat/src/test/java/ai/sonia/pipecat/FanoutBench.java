package ai.sonia.pipecat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.LongStream;

import org.awaitility.Awaitility;

import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.testing.TestCredentials;
import redis.clients.jedis.JedisPubSub;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.UnifiedJedis;

/**
 * Cross-replica event delivery, for {@code scripts/bench-fanout}: starts a stand-in gateway and two pipecat replicas
 * in this JVM on one home ({@code SONIA_HOME}; one SQLite session store, which its exclusive lock keeps to one
 * process) with the {@code shared.engine: redis} of the environment; each replica has its own fan-out (its own
 * subscription and publisher) and they meet only through the Redis server. For each of {@code sessions} sessions a
 * WebSocket client attaches on replica A and one on replica B, and {@code messages} chat messages per session are
 * sent through B, a round at a time (every session's message, then every reply awaited). For each event, the
 * latency is the time from its arrival at B's client (B stored it and sent it at once) to its arrival at A's client
 * (through Redis): what the fan-out adds. One clock times both clients. Fails unless both clients got every event
 * of every session exactly once, in sequence.
 *
 * <p>{@code java ... ai.sonia.pipecat.FanoutBench <sessions> <messages> [report.md]}.
 */
final class FanoutBench {

    private static final Pattern SESSION_ID = Pattern.compile("\"session_id\"\\s*:\\s*\"([^\"]+)\"");

    public static void main(String[] args) throws Exception {
        final int sessions = Integer.parseInt(args[0]);
        final int messages = Integer.parseInt(args[1]);
        final int warmup = Math.min(5, messages / 5);
        final StackConfig config = StackConfig.load(System.getenv());
        final TestGateway gateway = new TestGateway(config);
        final Map<String, String> settings = Map.of("SONIA_GATEWAY_TARGET", gateway.target(),
                                                    "SONIA_PIPECAT_MAX_CONNECTIONS_PER_IP", "100000",
                                                    "SONIA_PIPECAT_EVENTS_PER_MINUTE", "1000000",
                                                    "SONIA_PIPECAT_MAX_LIVE_SESSIONS_PER_USER", "100000",
                                                    "SONIA_PIPECAT_MAX_SESSIONS_PER_USER", "100000",
                                                    "SONIA_PIPECAT_MAX_HISTORY_PER_SESSION", "1000000",
                                                    "SONIA_PIPECAT_RATE_LIMITS_PER_PRINCIPAL_REQUESTS", "100000000",
                                                    "SONIA_PIPECAT_RATE_LIMITS_PER_IP_REQUESTS", "100000000");
        final SoniaServer replicaA = replica(config, settings);
        final SoniaServer replicaB = replica(config, settings);
        final int portA = replicaA.port();
        final int portB = replicaB.port();
        final String token = TestCredentials.userToken(config, "bench", "bencher");

        final List<WsClient> onA = new ArrayList<>();
        final List<WsClient> onB = new ArrayList<>();
        final Map<WsClient, Map<String, Long>> sentAt = new HashMap<>();
        for (int s = 0; s < sessions; s++) {
            final String id = start(portA, token);
            final WsClient a = WsClient.connect(portA, id, 0, null, token);
            a.await(e -> e.getText().equals("state=ACTIVE"));
            final WsClient b = WsClient.connect(portB, id, 0, null, token);
            b.await(e -> e.getText().equals("state=ACTIVE"));
            onA.add(a);
            onB.add(b);
            sentAt.put(b, new HashMap<>());
        }
        // SESSION_START and STATUS state=ACTIVE, then per message the user's, the reply and its TURN.
        final long measuredFrom = 2 + 3L * warmup;
        final long t0 = System.nanoTime();
        for (int m = 1; m <= messages; m++) {
            for (WsClient b : onB) {
                final String text = "m-" + m;
                sentAt.get(b).put(text, System.nanoTime());
                b.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"message_id\":\"" + text + "\",\"text\":\"" + text + "\"}");
            }
            final long turns = m;
            for (WsClient a : onA) {
                Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(1)).until(
                        () -> a.events.stream().filter(e -> e.getType() == EventType.EVENT_TYPE_TURN).count()
                              >= turns);
            }
        }
        final double seconds = (System.nanoTime() - t0) / 1e9;

        final List<Double> fanout = new ArrayList<>();
        final List<Double> endToEnd = new ArrayList<>();
        long events = 0;
        for (int s = 0; s < sessions; s++) {
            final WsClient a = onA.get(s);
            final WsClient b = onB.get(s);
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(
                    () -> a.sequences().size() == b.sequences().size());
            final List<Long> expected = LongStream.rangeClosed(1, b.sequences().size()).boxed().toList();
            if (!a.sequences().equals(expected) || !b.sequences().equals(expected)) {
                throw new IllegalStateException("session " + s + ": A got " + a.sequences() + ", B got "
                                                + b.sequences() + " (expected 1.." + expected.size() + ')');
            }
            final Map<Long, Long> atA = arrivals(a);
            final Map<Long, Long> atB = arrivals(b);
            for (Map.Entry<Long, Long> arrival : atB.entrySet()) {
                if (arrival.getKey() > measuredFrom) {
                    fanout.add((atA.get(arrival.getKey()) - arrival.getValue()) / 1e6);
                    events++;
                }
            }
            for (int i = 0; i < a.events.size(); i++) {
                final SessionEvent event = a.events.get(i);
                final Long sent = sentAt.get(b).get(event.getText());
                if (sent != null && event.getRole().equals("user") && event.getSequence() > measuredFrom) {
                    endToEnd.add((a.arrivals.get(i) - sent) / 1e6);
                }
            }
            a.close();
            b.close();
        }
        final List<Double> floor = pubSubRoundTrips(URI.create(System.getenv("SONIA_SHARED_REDIS_URL")),
                                                    Math.max(50, fanout.size() / 3));
        final String report = String.format(
                Locale.ROOT,
                "| sessions | messages each | events measured | fan-out p50 | p99 | max | send → A p50 | p99 | run"
                + " | bare pub/sub p50 | p99 |%n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|%n"
                + "| %d | %d | %d | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %.1f s | %.2f ms | %.2f ms |%n",
                sessions, messages - warmup, events, percentile(fanout, 50),
                percentile(fanout, 99), percentile(fanout, 100), percentile(endToEnd, 50),
                percentile(endToEnd, 99), seconds, percentile(floor, 50), percentile(floor, 99));
        System.out.print(report);
        if (args.length > 2) {
            Files.writeString(Path.of(args[2]), report);
        }
        replicaB.close();
        replicaA.close();
        gateway.close();
        System.exit(0);
    }

    private static SoniaServer replica(StackConfig config, Map<String, String> settings) {
        return new PipecatModule().newServer(config.withEnv(settings).withPorts(Map.of("pipecat", 0))).start();
    }

    /**
     * The floor, measured in the same run: {@code count} messages one after the other from a plain Jedis client to a
     * plain subscriber in this JVM (PUBLISH → Redis → onMessage), each timed.
     */
    private static List<Double> pubSubRoundTrips(URI redis, int count) throws Exception {
        final List<Double> times = new ArrayList<>();
        final java.util.concurrent.SynchronousQueue<Long> arrived = new java.util.concurrent.SynchronousQueue<>();
        final JedisPubSub subscriber = new JedisPubSub() {
            @Override
            public void onMessage(String channel, String message) {
                try {
                    arrived.put(System.nanoTime());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        try (UnifiedJedis publisher = RedisClient.create(redis.getHost(), redis.getPort());
             UnifiedJedis listener = RedisClient.create(redis.getHost(), redis.getPort())) {
            final Thread listening = new Thread(() -> listener.subscribe(subscriber, "bench:floor"));
            listening.start();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(subscriber::isSubscribed);
            for (int i = 0; i < count; i++) {
                final long sent = System.nanoTime();
                publisher.publish("bench:floor", "x");
                times.add((arrived.take() - sent) / 1e6);
            }
            subscriber.unsubscribe();
            listening.join(5_000);
        }
        return times;
    }

    // Sequence → arrival (nanoTime) of each session event a client got.
    private static Map<Long, Long> arrivals(WsClient client) {
        final Map<Long, Long> arrivals = new HashMap<>();
        for (int i = 0; i < client.events.size(); i++) {
            if (client.events.get(i).getSequence() > 0) {
                arrivals.put(client.events.get(i).getSequence(), client.arrivals.get(i));
            }
        }
        return arrivals;
    }

    private static String start(int port, String token) throws Exception {
        final HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/session/start"))
                           .header("authorization", "Bearer " + token).header("content-type", "application/json")
                           .POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                HttpResponse.BodyHandlers.ofString());
        final Matcher id = SESSION_ID.matcher(response.body());
        if (response.statusCode() != 200 || !id.find()) {
            throw new IllegalStateException("POST /session/start: " + response.statusCode() + ' ' + response.body());
        }
        return id.group(1);
    }

    private static double percentile(List<Double> values, int p) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        final List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }

    private FanoutBench() {}
}

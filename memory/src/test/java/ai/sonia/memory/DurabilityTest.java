package ai.sonia.memory;

import static ai.sonia.memory.MemoryTestServer.scope;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.grpc.GrpcClients;

import ai.sonia.memory.v1.GetMemoryRequest;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryServiceGrpc.MemoryServiceBlockingStub;
import ai.sonia.memory.v1.StoreMemoryRequest;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.auth.ServiceCredentialInterceptor;
import ai.sonia.runtime.auth.ServiceCredentials;
import ai.sonia.runtime.testing.FreePorts;

/** A child JVM serving the ledger is killed with SIGKILL mid-burst; every acknowledged write survives. */
class DurabilityTest {

    private static final Path CHILD_LOG = Path.of("target", "durability-child.log");

    @Test
    void everyAcknowledgedWriteSurvivesSigkillAndTheDatabaseIsIntact() throws Exception {
        final Path home = Path.of("target", "test-home", "durability-" + System.nanoTime()).toAbsolutePath();
        // The keys are made here, before the child starts, so that it verifies what this JVM signs.
        final ServiceCredentialInterceptor credentials = new ServiceCredentialInterceptor(
                ServiceCredentials.of(StackConfig.load(Map.of("SONIA_HOME", home.toString()))), "durability-test");
        // The child on a picked port, again on a fresh one if it was taken before the child bound it (FreePorts).
        final int[] port = new int[1];
        final Process child = FreePorts.retrying(() -> {
            port[0] = FreePorts.pick();
            final Process started = startChild(home, port[0]);
            final WebClient health = WebClient.of("http://127.0.0.1:" + port[0]);
            try {
                Awaitility.await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(
                        () -> !started.isAlive() || health.get("/healthz").aggregate().join().status().code() == 200);
            } catch (RuntimeException e) {
                started.destroyForcibly();
                throw e;
            }
            if (!started.isAlive()) {
                throw new IllegalStateException("the child exited: " + java.nio.file.Files.readString(CHILD_LOG));
            }
            return started;
        });
        final Map<String, String> acknowledged = new ConcurrentHashMap<>();
        final ExecutorService writers = Executors.newFixedThreadPool(4);
        try {
            final MemoryServiceBlockingStub stub =
                    GrpcClients.builder("http://127.0.0.1:" + port[0]).intercept(credentials)
                               .build(MemoryServiceBlockingStub.class);
            final AtomicInteger counter = new AtomicInteger();
            for (int w = 0; w < 4; w++) {
                writers.execute(() -> {
                    while (!Thread.currentThread().isInterrupted()) {
                        final String text = "Burst memory number " + counter.incrementAndGet() + " of the soak.";
                        try {
                            final Memory memory = stub.storeMemory(StoreMemoryRequest.newBuilder().setMemory(
                                    Memory.newBuilder().setScope(scope("durable", "u", "")).setText(text)).build())
                                                      .getMemory();
                            acknowledged.put(memory.getName(), text);
                        } catch (RuntimeException e) {
                            return; // the child is gone
                        }
                    }
                });
            }
            Awaitility.await().atMost(Duration.ofSeconds(90)).until(() -> acknowledged.size() >= 80);
            child.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no flush
            child.waitFor(10, TimeUnit.SECONDS);
        } finally {
            writers.shutdownNow();
            writers.awaitTermination(10, TimeUnit.SECONDS);
            child.destroyForcibly();
        }

        assertThat(integrityCheck(home.resolve("data/memory/memory.db"))).isEqualTo("ok");
        try (MemoryTestServer reopened = MemoryTestServer.reopen(home)) {
            final List<String> missing = new ArrayList<>();
            acknowledged.forEach((name, text) -> {
                final Memory memory = reopened.stub.getMemory(GetMemoryRequest.newBuilder().setName(name).build());
                if (!memory.getText().equals(text)) {
                    missing.add(name);
                }
            });
            assertThat(missing).isEmpty();
            assertThat(reopened.server.port()).isPositive();
        }
    }

    private static Process startChild(Path home, int port) throws IOException {
        final String java = ProcessHandle.current().info().command().orElse("java");
        final String classpath = System.getProperty("surefire.test.class.path",
                                                    System.getProperty("java.class.path"));
        final Path tmp = Path.of("target", "tmp").toAbsolutePath();
        final ProcessBuilder builder = new ProcessBuilder(
                java, "-Djava.io.tmpdir=" + tmp, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", classpath, Main.class.getName());
        builder.environment().put("SONIA_HOME", home.toString());
        builder.environment().put("SONIA_MEMORY_PORT", String.valueOf(port));
        // Memory alone, without EVA-OS: training locks are not its to check here.
        builder.environment().put("SONIA_MEMORY_TRAINING_ENFORCE", "false");
        builder.environment().put("DJL_CACHE_DIR", Path.of("target", "djl").toAbsolutePath().toString());
        builder.redirectErrorStream(true);
        builder.redirectOutput(CHILD_LOG.toFile());
        return builder.start();
    }

    private static String integrityCheck(Path database) throws Exception {
        try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + database);
             Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("PRAGMA integrity_check")) {
            rs.next();
            return rs.getString(1);
        }
    }
}

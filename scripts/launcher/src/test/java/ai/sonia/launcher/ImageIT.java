package ai.sonia.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.testing.FreePorts;
import ai.sonia.runtime.testing.Programs;
import ai.sonia.runtime.testing.TestHomes;

/**
 * The OCI image that {@code -Pimage} builds with Jib (no Docker daemon, no registry): its config declares the
 * contract's ports and a non-root user, and its layers, unpacked into a root file system of their own, run a
 * service (memory: SQLite and ONNX Runtime native code) in bubblewrap, as a container runtime would.
 */
class ImageIT {

    private static final ObjectMapper mapper = new ObjectMapper();

    @Test
    void theImageDeclaresTheContractAndRunsAServiceInAContainerOfItsOwn() throws Exception {
        final String tarName = System.getenv("SONIA_IMAGE_TAR");
        assumeTrue(tarName != null && Files.isRegularFile(Path.of(tarName)),
                   "no image: build it with ./mvnw -Pimage package -pl scripts/launcher -am");
        final Path work = TestHomes.create("image");
        final Path layout = work.resolve("layout");
        Files.createDirectories(layout);
        assertThat(Programs.run("tar", "-xf", tarName, "-C", layout.toString()).exit()).isZero();
        final JsonNode index = mapper.readTree(layout.resolve("index.json").toFile());
        final JsonNode manifest = blob(layout, index.at("/manifests/0/digest").asText());
        final JsonNode config = blob(layout, manifest.at("/config/digest").asText()).get("config");

        assertThat(index.at("/manifests/0/annotations").toString()).contains("sonia:");
        assertThat(config.get("User").asText()).isEqualTo("10001:10001");
        final List<Integer> ports = new ArrayList<>();
        config.get("ExposedPorts").fieldNames().forEachRemaining(p -> ports.add(Integer.parseInt(p.split("/")[0])));
        assertThat(ports).containsExactlyInAnyOrderElementsOf(Stack.SERVICES.stream().map(ServiceSpec::port).toList());

        final Path root = work.resolve("rootfs");
        Files.createDirectories(root);
        for (JsonNode layer : manifest.get("layers")) {
            final Path file = layout.resolve("blobs/sha256").resolve(layer.get("digest").asText().substring(7));
            assertThat(Programs.run("tar", "-xzf", file.toString(), "-C", root.toString()).exit()).isZero();
        }
        assertThat(root.resolve("opt/java/bin/java")).isExecutable();

        assumeTrue(Programs.onPath("bwrap"), "bubblewrap is not installed: the image is checked but not run");
        final Path home = work.resolve("home");
        Files.createDirectories(home);
        final Map<String, String> env = new TreeMap<>();
        config.get("Env").forEach(e -> env.put(e.asText().split("=", 2)[0], e.asText().split("=", 2)[1]));
        env.put("SONIA_BIND", "127.0.0.1"); // the test's network is the host's: stay on loopback
        final int[] port = new int[1];
        // The container on a picked port; again on a fresh one if the port was taken before it bound (FreePorts).
        final Process container = FreePorts.retrying(() -> {
            port[0] = FreePorts.pick();
            env.put("SONIA_MEMORY_PORT", String.valueOf(port[0]));
            final List<String> command = new ArrayList<>(List.of(
                    "bwrap", "--bind", root.toString(), "/", "--bind", home.toString(), "/var/lib/sonia",
                    "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--unshare-all", "--share-net",
                    "--uid", "10001", "--gid", "10001", "--die-with-parent", "--clearenv",
                    "--chdir", config.get("WorkingDir").asText()));
            env.forEach((k, v) -> command.addAll(List.of("--setenv", k, v)));
            config.get("Entrypoint").forEach(a -> command.add(a.asText()));
            command.add(Stack.MEMORY.name());
            final Process started = new ProcessBuilder(command).redirectErrorStream(true)
                                                               .redirectOutput(work.resolve("container.out").toFile())
                                                               .start();
            final HttpClient probe = HttpClient.newHttpClient();
            try {
                await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250)).until(() -> {
                    if (!started.isAlive()) {
                        return true;
                    }
                    try {
                        return probe.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port[0] + "/healthz"))
                                                     .build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
                    } catch (IOException e) {
                        return false;
                    }
                });
            } catch (RuntimeException e) {
                started.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw e;
            }
            final String out = Files.readString(work.resolve("container.out"));
            if (!started.isAlive()) {
                throw new IllegalStateException("the container exited: " + out.substring(Math.max(0, out.length() - 3000)));
            }
            return started;
        });
        try {
            final HttpClient http = HttpClient.newHttpClient();
            assertThat(home.resolve("data/memory/memory.db")).exists();
            // A store and a search embed text with ONNX Runtime: the image's native libraries are complete.
            final String token = ai.sonia.runtime.testing.TestCredentials.userToken(
                    ai.sonia.runtime.StackConfig.load(Map.of("SONIA_HOME", home.toString())), "default", "alice");
            for (String[] call : new String[][] {
                    { "store", "{\"memory\":{\"text\":\"My cat is called Miso.\",\"kind\":\"MEMORY_KIND_FACT\"}}" },
                    { "search", "{\"query\":\"what is my cat called\"}" } }) {
                final HttpResponse<String> response = http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port[0] + "/v1/memories:" + call[0]))
                                   .header("authorization", "Bearer " + token)
                                   .header("content-type", "application/json")
                                   .POST(HttpRequest.BodyPublishers.ofString(call[1])).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
                assertThat(response.body()).contains("Miso");
            }
        } finally {
            container.destroy();
            if (!container.waitFor(30, TimeUnit.SECONDS)) {
                container.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private static JsonNode blob(Path layout, String digest) throws IOException {
        return mapper.readTree(layout.resolve("blobs/sha256").resolve(digest.substring("sha256:".length())).toFile());
    }
}

package ai.sonia.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.ServerSocket;
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
        final int port;
        try (ServerSocket socket = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        final Path home = work.resolve("home");
        Files.createDirectories(home);
        final Map<String, String> env = new TreeMap<>();
        config.get("Env").forEach(e -> env.put(e.asText().split("=", 2)[0], e.asText().split("=", 2)[1]));
        env.put("SONIA_BIND", "127.0.0.1"); // the test's network is the host's: stay on loopback
        env.put("SONIA_MEMORY_PORT", String.valueOf(port));
        final List<String> command = new ArrayList<>(List.of(
                "bwrap", "--bind", root.toString(), "/", "--bind", home.toString(), "/var/lib/sonia",
                "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--unshare-all", "--share-net",
                "--uid", "10001", "--gid", "10001", "--die-with-parent", "--clearenv",
                "--chdir", config.get("WorkingDir").asText()));
        env.forEach((k, v) -> command.addAll(List.of("--setenv", k, v)));
        config.get("Entrypoint").forEach(a -> command.add(a.asText()));
        command.add(Stack.MEMORY.name());
        final Process container = new ProcessBuilder(command).redirectErrorStream(true)
                                                             .redirectOutput(work.resolve("container.out").toFile())
                                                             .start();
        try {
            final HttpClient http = HttpClient.newHttpClient();
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250)).until(() -> {
                if (!container.isAlive()) {
                    return true;
                }
                try {
                    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/healthz")).build(),
                                     HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
                } catch (IOException e) {
                    return false;
                }
            });
            final String out = Files.readString(work.resolve("container.out"));
            assertThat(container.isAlive()).as(out.substring(Math.max(0, out.length() - 3000))).isTrue();
            assertThat(home.resolve("data/memory/memory.db")).exists();
            // A store and a search embed text with ONNX Runtime: the image's native libraries are complete.
            final String token = ai.sonia.runtime.testing.TestCredentials.userToken(
                    ai.sonia.runtime.StackConfig.load(Map.of("SONIA_HOME", home.toString())), "default", "alice");
            for (String[] call : new String[][] {
                    { "store", "{\"memory\":{\"text\":\"My cat is called Miso.\",\"kind\":\"MEMORY_KIND_FACT\"}}" },
                    { "search", "{\"query\":\"what is my cat called\"}" } }) {
                final HttpResponse<String> response = http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/memories:" + call[0]))
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

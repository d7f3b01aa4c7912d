package ai.sonia.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Nothing the stack writes is readable by another local user: after a run of all six services that signed
 * users in, chatted (memory, router ledger), asked for an action (EVA-OS approvals, OpenClaw audit) and opened
 * a session (pipecat), every directory under a fresh {@code SONIA_HOME} is 0700 and every file 0600 (SQLite
 * databases with their -wal and -shm, secrets, the revocation list), and so are the log files. The home
 * itself and the config the test wrote are the test's; the workspace's content is the user's own files.
 */
class FileModesIT {

    private static final ObjectMapper mapper = new ObjectMapper();
    private static final HttpClient http = HttpClient.newHttpClient();

    @Test
    void everyFileTheStackWritesIsOwnerOnly() throws Exception {
        final Path home;
        try (InProcessStack stack = new InProcessStack("modes", "{\"services\":{\"gateway\":{\"auth\":{"
                                                                + "\"registration\":\"open\",\"bcryptCost\":4}}}}")) {
            home = stack.config().home();
            final String admin = login(stack, "admin", Files.readString(home.resolve("secrets/admin-password")).trim());
            assertThat(post(stack, "/api/auth/register", null,
                            "{\"username\":\"sam\",\"password\":\"sam-password-12\"}").statusCode()).isEqualTo(200);
            final String sam = login(stack, "sam", "sam-password-12");
            assertThat(post(stack, "/v1/chat", sam, "{\"text\":\"remember that the sky is green\"}").statusCode())
                    .isEqualTo(200);
            post(stack, "/v1/action", sam, "{\"tool_name\":\"shell.run\",\"arguments\":{\"argv\":[\"touch\",\"x.txt\"]}}");
            post(stack, "/v1/action", sam, "{\"tool_name\":\"time.now\",\"arguments\":{}}");
            post(stack, "/api/auth/logout", admin, "{}");
            assertThat(looseFiles(home)).isEmpty(); // while running: the SQLite -wal files too
            try (Stream<Path> all = Files.walk(home.resolve("data"))) {
                // No -shm: the unix-excl VFS keeps WAL's index in memory (runtime/store/Sqlite).
                assertThat(all.map(p -> p.getFileName().toString()).toList())
                        .contains("accounts.db-wal", "approvals.db-wal", "memory.db-wal")
                        .noneMatch(name -> name.endsWith("-shm"));
            }
        }
        assertThat(looseFiles(home)).isEmpty(); // and after a clean stop
        try (Stream<Path> all = Files.walk(home.resolve("data"))) {
            assertThat(all.map(p -> p.getFileName().toString()))
                    .contains("accounts.db", "approvals.db", "usage.db", "pipecat.db", "memory.db", "audit.db");
        }
    }

    private static List<String> looseFiles(Path home) throws IOException {
        final List<String> loose = new ArrayList<>();
        final Path workspaces = home.resolve("data/openclaw");
        try (Stream<Path> all = Files.walk(home)) {
            for (Path path : all.toList()) {
                if (path.equals(home) || path.startsWith(home.resolve("config"))
                    || isWorkspaceContent(workspaces, path)) {
                    continue;
                }
                check(path, loose);
            }
        }
        final String logDir = System.getenv("SONIA_LOG_DIR") != null ? System.getenv("SONIA_LOG_DIR")
                              : Path.of(System.getenv().getOrDefault("SONIA_HOME", "."), "logs").toString();
        try (Stream<Path> logs = Files.list(Path.of(logDir))) {
            for (Path log : logs.filter(p -> p.toString().endsWith(".log")).toList()) {
                check(log, loose);
            }
        }
        return loose;
    }

    /** Files inside a workspace (below its root) belong to the user's programs, not to the stack. */
    private static boolean isWorkspaceContent(Path workspaces, Path path) {
        if (!path.startsWith(workspaces)) {
            return false;
        }
        final Path relative = workspaces.relativize(path);
        return relative.getNameCount() > 1 && "workspace".equals(relative.getName(0).toString())
               || relative.getNameCount() > 2 && "tenants".equals(relative.getName(0).toString());
    }

    private static void check(Path path, List<String> loose) throws IOException {
        final String mode;
        try {
            mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
        } catch (java.nio.file.NoSuchFileException gone) {
            return; // a file SQLite removed between the listing and the look
        }
        final String expected = Files.isDirectory(path) ? "rwx------" : "rw-------";
        if (!mode.equals(expected)) {
            loose.add(mode + ' ' + path);
        }
    }

    private static String login(InProcessStack stack, String username, String password) throws Exception {
        final HttpResponse<String> response = post(stack, "/api/auth/login", null,
                "{\"username\":\"" + username + "\",\"password\":\"" + password + "\"}");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return mapper.readTree(response.body()).at("/data/access_token").asText();
    }

    private static HttpResponse<String> post(InProcessStack stack, String path, String token, String json)
            throws Exception {
        final HttpRequest.Builder request = HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + stack.port("gateway") + path))
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
        if (token != null) {
            request.header("authorization", "Bearer " + token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}

package ai.sonia.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The whole stack's state through one archive: a real stack writes into every store (accounts and sessions,
 * the router's ledger, the memory ledger, pipecat's sessions, the tool audit, approvals), is backed up while it
 * runs, stopped and wiped; the restore brings back every row of every table of every database, and the stack
 * starts on it again with the same admin and memories.
 */
class StackBackupIT {

    private static final ObjectMapper mapper = new ObjectMapper();
    private static final HttpClient http = HttpClient.newHttpClient();
    static final String CONFIG = "{\"services\":{\"gateway\":{\"auth\":{\"bcryptCost\":4}}}}";
    static final List<String> DATABASES = List.of("data/evaos/approvals.db", "data/gateway/accounts.db",
                                                          "data/memory/memory.db", "data/openclaw/audit.db",
                                                          "data/pipecat/pipecat.db", "data/router/usage.db");

    @Test
    void aBackupOfARunningStackRestoresEveryRowOfEveryDatabase() throws Exception {
        final Path archive;
        final Path home;
        final String password;
        final ai.sonia.runtime.StackConfig stackConfig;
        try (InProcessStack stack = new InProcessStack("backup", CONFIG)) {
            stackConfig = stack.config();
            home = stack.config().home();
            password = Files.readString(home.resolve("secrets/admin-password")).trim();
            final String admin = login(stack::port, password);
            writeIntoEveryStore(stack::port, admin);
            for (String db : DATABASES) {
                assertThat(home.resolve(db)).as(db).exists();
            }
            // Recent writes are still in the write-ahead logs: the backup must read them from there.
            assertThat(DATABASES.stream().map(db -> home.resolve(db + "-wal"))
                                .filter(wal -> wal.toFile().length() > 0)).isNotEmpty();

            archive = home.resolve("target-backup.zip");
            assertThat(StackBackup.run(stack.config(), List.of("backup", "--out", archive.toString()))).isZero();
            // Restoring under a running stack is refused; scripts/sonia restore stops it first.
            assertThat(StackBackup.run(stack.config(), List.of("restore", archive.toString()))).isEqualTo(1);
        }
        final Map<String, Map<String, List<String>>> before = dumpAll(home);
        assertThat(before.keySet()).containsAll(DATABASES);
        for (String db : DATABASES) {
            assertThat(before.get(db).values().stream().mapToInt(List::size).sum()).as(db + " has rows").isPositive();
        }
        try (ZipFile zip = new ZipFile(archive.toFile())) {
            final JsonNode manifest = mapper.readTree(zip.getInputStream(zip.getEntry(StackBackup.MANIFEST)));
            assertThat(manifest.get("with_secrets").asBoolean()).isFalse();
            assertThat(zip.stream().map(java.util.zip.ZipEntry::getName))
                    .contains("config/sonia.json").noneMatch(name -> name.startsWith("secrets/"))
                    .noneMatch(name -> name.endsWith("-wal"));
        }
        assertThat(java.nio.file.Files.getPosixFilePermissions(archive))
                .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                                           java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);

        deleteTree(home.resolve("data"));
        Files.delete(home.resolve("config/sonia.json"));
        // The stack's own ports: the check that it is stopped must not see another program on 7000-7050.
        assertThat(StackBackup.run(stackConfig, List.of("restore", archive.toString()))).isZero();

        assertSameRows(before, dumpAll(home));
        assertThat(home.resolve("config/sonia.json")).content().isEqualTo(CONFIG);

        // The stack starts on what was restored: the same admin, the same memories.
        try (InProcessStack restored = new InProcessStack(home, null)) {
            final String admin = login(restored::port, password);
            final HttpResponse<String> memories = get(restored::port, "memory", "/v1/memories", admin);
            assertThat(memories.statusCode()).as(memories.body()).isEqualTo(200);
            assertThat(memories.body()).contains("backup-canary");
        }
    }

    @Test
    void aDamagedArchiveIsRefusedBeforeAnythingIsReplaced() throws Exception {
        final Path home = ai.sonia.runtime.testing.TestHomes.create("backup-damaged");
        Files.createDirectories(home.resolve("data/memory"));
        Files.writeString(home.resolve("data/memory/notes.txt"), "precious");
        final var config = ai.sonia.runtime.StackConfig.load(Map.of("SONIA_HOME", home.toString()))
                                                       .withPorts(nowhere());
        final Path archive = home.resolve("a.zip");
        assertThat(StackBackup.run(config, List.of("backup", "--out", archive.toString()))).isZero();
        final byte[] bytes = Files.readAllBytes(archive);
        final String text = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
        final int at = text.indexOf("precious"); // stored, not deflated? then flip a byte of it
        final Path damaged = home.resolve("damaged.zip");
        if (at >= 0) {
            bytes[at] = 'P';
        } else {
            bytes[bytes.length / 3] ^= 0x55;
        }
        Files.write(damaged, bytes);
        assertThat(StackBackup.run(config, List.of("restore", damaged.toString()))).isEqualTo(1);
        assertThat(home.resolve("data/memory/notes.txt")).content().isEqualTo("precious");
        assertThat(StackBackup.run(config, List.of("restore", home.resolve("none.zip").toString()))).isEqualTo(1);
    }

    @Test
    void secretsGoInOnlyWhenAskedAndComeBackOwnerOnly() throws Exception {
        final Path home = ai.sonia.runtime.testing.TestHomes.create("backup-secrets");
        final var config = ai.sonia.runtime.StackConfig.load(Map.of("SONIA_HOME", home.toString()))
                                                       .withPorts(nowhere());
        final byte[] key = ai.sonia.runtime.auth.Secrets.serviceKey(config); // generated, owner-only
        final Path without = home.resolve("without.zip");
        final Path with = home.resolve("with.zip");
        assertThat(StackBackup.run(config, List.of("backup", "--out", without.toString()))).isZero();
        assertThat(StackBackup.run(config, List.of("backup", "--with-secrets", "--out", with.toString()))).isZero();
        try (ZipFile zip = new ZipFile(without.toFile())) {
            assertThat(zip.stream().map(java.util.zip.ZipEntry::getName)).noneMatch(n -> n.startsWith("secrets/"));
        }
        try (ZipFile zip = new ZipFile(with.toFile())) {
            assertThat(zip.stream().map(java.util.zip.ZipEntry::getName)).contains("secrets/service.key");
        }
        deleteTree(home.resolve("secrets"));
        assertThat(StackBackup.run(config, List.of("restore", with.toString()))).isZero();
        final Path restored = home.resolve("secrets/service.key");
        assertThat(java.util.Base64.getDecoder().decode(Files.readString(restored).trim())).isEqualTo(key);
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(restored)))
                .isEqualTo("rw-------");
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(restored.getParent()))).isEqualTo("rwx------");
    }

    static void writeIntoEveryStore(java.util.function.ToIntFunction<String> stack, String admin) throws Exception {
        // gateway: a user (accounts); router: the chat's usage; memory: the stored turn.
        assertThat(post(stack, "gateway", "/api/auth/register", admin,
                        "{\"username\":\"bob\",\"password\":\"correct horse battery\"}").statusCode()).isEqualTo(200);
        final HttpResponse<String> chat = post(stack, "gateway", "/v1/chat", admin,
                                               "{\"text\":\"remember the backup-canary phrase\"}");
        assertThat(chat.statusCode()).as(chat.body()).isEqualTo(200);
        // pipecat: a session.
        final HttpResponse<String> session = post(stack, "pipecat", "/session/start", admin, "{}");
        assertThat(session.statusCode()).as(session.body()).isEqualTo(200);
        // openclaw: an audited tool call; evaos: a pending approval.
        final HttpResponse<String> now = post(stack, "gateway", "/v1/action", admin,
                                              "{\"tool_name\":\"time.now\",\"arguments\":{}}");
        assertThat(now.statusCode()).as(now.body()).isEqualTo(200);
        final HttpResponse<String> waiting = post(stack, "gateway", "/v1/action", admin,
                "{\"tool_name\":\"shell.run\",\"arguments\":{\"argv\":[\"touch\",\"note.txt\"]}}");
        assertThat(waiting.statusCode()).as(waiting.body()).isEqualTo(403);
    }

    /** Every database, every table, every row: the same. */
    static void assertSameRows(Map<String, Map<String, List<String>>> before,
                               Map<String, Map<String, List<String>>> after) {
        assertThat(after.keySet()).isEqualTo(before.keySet());
        for (String db : before.keySet()) {
            assertThat(after.get(db).keySet()).as(db).isEqualTo(before.get(db).keySet());
            for (String table : before.get(db).keySet()) {
                assertThat(after.get(db).get(table)).as(db + " " + table).isEqualTo(before.get(db).get(table));
            }
        }
    }

    /** Every table (FTS shadow tables too) of every database under data/, as sorted rows of text. */
    static Map<String, Map<String, List<String>>> dumpAll(Path home) throws Exception {
        final Map<String, Map<String, List<String>>> dump = new TreeMap<>();
        try (Stream<Path> files = Files.walk(home.resolve("data"))) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                if (!StackBackup.isSqlite(file) || file.toString().contains("/backups/")) {
                    continue;
                }
                final Map<String, List<String>> tables = new TreeMap<>();
                try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
                     Statement s = c.createStatement()) {
                    final List<String> names = new ArrayList<>();
                    try (ResultSet rs = s.executeQuery("SELECT name FROM sqlite_master WHERE type = 'table'"
                                                       + " AND sql NOT LIKE 'CREATE VIRTUAL%'")) {
                        while (rs.next()) {
                            names.add(rs.getString(1));
                        }
                    }
                    for (String name : names) {
                        final List<String> rows = new ArrayList<>();
                        try (ResultSet rs = s.executeQuery("SELECT * FROM \"" + name + '"')) {
                            final ResultSetMetaData meta = rs.getMetaData();
                            while (rs.next()) {
                                final StringBuilder row = new StringBuilder();
                                for (int i = 1; i <= meta.getColumnCount(); i++) {
                                    final Object value = rs.getObject(i);
                                    row.append(value instanceof byte[] b ? HexFormat.of().formatHex(b)
                                                                         : String.valueOf(value)).append('|');
                                }
                                rows.add(row.toString());
                            }
                        }
                        rows.sort(Comparator.naturalOrder());
                        tables.put(name, rows);
                    }
                }
                dump.put(home.relativize(file).toString(), tables);
            }
        }
        return dump;
    }

    static String login(java.util.function.ToIntFunction<String> stack, String password) throws Exception {
        final HttpResponse<String> response = post(stack, "gateway", "/api/auth/login", null,
                "{\"username\":\"admin\",\"password\":\"" + password + "\"}");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return mapper.readTree(response.body()).at("/data/access_token").asText();
    }

    static HttpResponse<String> post(java.util.function.ToIntFunction<String> stack, String service, String path,
                                     String token, String json) throws Exception {
        final HttpRequest.Builder request =
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + stack.applyAsInt(service) + path))
                           .header("content-type", "application/json")
                           .POST(HttpRequest.BodyPublishers.ofString(json));
        if (token != null) {
            request.header("authorization", "Bearer " + token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(java.util.function.ToIntFunction<String> stack, String service, String path,
                                    String token) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + stack.applyAsInt(service) + path))
                                    .header("authorization", "Bearer " + token).GET().build(),
                         HttpResponse.BodyHandlers.ofString());
    }

    /** Port 0 for every service: nothing listens there, so the stack counts as stopped. */
    private static Map<String, Integer> nowhere() {
        final Map<String, Integer> ports = new java.util.HashMap<>();
        ai.sonia.runtime.Stack.SERVICES.forEach(spec -> ports.put(spec.name(), 0));
        return ports;
    }

    static void deleteTree(Path root) throws Exception {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}

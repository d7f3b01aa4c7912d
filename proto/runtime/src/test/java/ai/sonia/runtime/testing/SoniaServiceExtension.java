package ai.sonia.runtime.testing;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import com.linecorp.armeria.client.WebClient;

import ai.sonia.common.v1.Role;
import ai.sonia.runtime.ServiceModule;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.auth.ServiceCredentials;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.AbstractStub;

/**
 * The one test seam of every service: starts one {@link ServiceModule} on a free loopback port over a fresh
 * test home ({@code target/test-homes/<service>-N}, with {@code config/sonia.json} holding the overrides),
 * and gives its URIs, a plaintext channel, stubs and web clients with credentials signed by the home's own
 * keys. Register it on a static field to share one server by the class, on an instance field (or with
 * {@link #eachTest()}) for a fresh one per test:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final SoniaServiceExtension evaos = SoniaServiceExtension.of(new EvaOsModule()).config("{\"pendingTtlSeconds\":1}");
 * ... evaos.stub(EvaOsServiceGrpc::newBlockingStub, evaos.adminToken()) ...
 * }</pre>
 *
 * It is also {@link AutoCloseable} for a server of one test: {@code try (var s = SoniaServiceExtension.of(m).start())}.
 * After the tests it stops the server and deletes the home, unless a test failed (the home stays for the
 * post-mortem) or the home was given with {@link #home(Path)}.
 */
public final class SoniaServiceExtension
        implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback, AutoCloseable {

    /** Builds the service's server from the test's config (a module's own seam: a test clock, a fake). */
    @FunctionalInterface
    public interface ServerFactory {
        SoniaServer newServer(StackConfig config) throws Exception;
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String service;
    private ServerFactory factory;
    private String stackJson = "{}";
    private Path givenHome;
    private boolean eachTest;
    private boolean perTestRegistration;

    private Path home;
    private StackConfig config;
    private SoniaServer server;
    private ManagedChannel channel;

    private SoniaServiceExtension(String service, ServerFactory factory) {
        this.service = service;
        this.factory = factory;
    }

    /** An extension that will start {@code module}'s server. */
    public static SoniaServiceExtension of(ServiceModule module) {
        return new SoniaServiceExtension(module.spec().name(), module::newServer);
    }

    /** An extension that will start the server {@code factory} builds for {@code spec} (a test's own service). */
    public static SoniaServiceExtension of(ServiceSpec spec, ServerFactory factory) {
        return new SoniaServiceExtension(spec.name(), requireNonNull(factory, "factory"));
    }

    /** The service's section of the config ({@code services.<name>}), as JSON: {@code {"pendingTtlSeconds":1}}. */
    public SoniaServiceExtension config(String serviceSectionJson) {
        return stackConfig("{\"services\":{\"" + service + "\":" + requireNonNull(serviceSectionJson) + "}}");
    }

    /** The service's section of the config as a map ({@code Map.of("pendingTtlSeconds", 1)}). */
    public SoniaServiceExtension config(Map<String, ?> serviceSection) {
        try {
            return config(JSON.writeValueAsString(serviceSection));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + serviceSection, e);
        }
    }

    /** The whole {@code config/sonia.json}, for tests that set stack-wide keys (http, tls, other services). */
    public SoniaServiceExtension stackConfig(String soniaJson) {
        stackJson = requireNonNull(soniaJson, "soniaJson");
        return this;
    }

    /** Builds the server with {@code factory} instead of {@link ServiceModule#newServer}. */
    public SoniaServiceExtension factory(ServerFactory factory) {
        this.factory = requireNonNull(factory, "factory");
        return this;
    }

    /** Starts on an existing home (made by the test: a legacy database, a config of its own), kept after. */
    public SoniaServiceExtension home(Path existing) {
        givenHome = requireNonNull(existing, "existing").toAbsolutePath();
        return this;
    }

    /** A fresh home and server for every test, even when registered on a static field. */
    public SoniaServiceExtension eachTest() {
        eachTest = true;
        return this;
    }

    /** Makes the home (unless given), writes the config and starts the server on a free port. */
    public SoniaServiceExtension start() {
        if (server != null) {
            throw new IllegalStateException(service + " is running already");
        }
        if (givenHome != null) {
            home = givenHome;
        } else {
            home = TestHomes.create(service);
            try {
                Files.createDirectories(home.resolve("config"));
                Files.writeString(home.resolve("config/sonia.json"), stackJson);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        // A picked port, not port 0: restart() binds the same port again, and a port the kernel handed out for
        // port 0 can go to any process's outgoing connection while the server is down (see FreePorts).
        final StackConfig base = StackConfig.load(TestHomes.env(home));
        try {
            FreePorts.retrying(() -> {
                config = base.withPorts(Map.of(service, FreePorts.pick()));
                launch();
                return null;
            });
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("cannot start " + service + ": " + e.getMessage(), e);
        }
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
        return this;
    }

    /**
     * Stops the server and starts a new one on the same home and port (what a process restart does): the
     * channel and stubs made before reconnect to it.
     */
    public void restart() {
        final int port = server.port();
        server.close();
        server = null;
        config = config.withPorts(Map.of(service, port));
        launch();
        channel.enterIdle(); // the next call connects afresh, without a reconnect backoff from the downtime
    }

    private void launch() {
        final SoniaServer built;
        try {
            built = factory.newServer(config);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("cannot start " + service + ": " + e.getMessage(), e);
        }
        server = FreePorts.startOrClose(built);
    }

    /** Stops the server and deletes the home it made. */
    @Override
    public void close() {
        stop(true);
    }

    private void stop(boolean delete) {
        if (channel != null) {
            channel.shutdownNow();
            channel = null;
        }
        if (server != null) {
            server.close();
            server = null;
        }
        if (delete && givenHome == null && home != null) {
            deleteTree(home);
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete the test home " + root, e);
        }
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        if (!eachTest) {
            start();
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        if (server == null) {
            perTestRegistration = true; // an instance field (no beforeAll), or eachTest()
            start();
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (perTestRegistration) {
            stop(context.getExecutionException().isEmpty());
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        stop(context.getExecutionException().isEmpty());
    }

    /** The service's name ("evaos"). */
    public String service() {
        return service;
    }

    /** The running server. */
    public SoniaServer server() {
        return running(server);
    }

    /** The port it listens on. */
    public int port() {
        return server().port();
    }

    /** Its gRPC address, {@code http://127.0.0.1:<port>} (gRPC over plaintext HTTP/2). */
    public URI grpcUri() {
        return httpUri();
    }

    /** Its REST and status address, {@code http://127.0.0.1:<port>}. */
    public URI httpUri() {
        return URI.create("http://127.0.0.1:" + port());
    }

    /** The test home ({@code SONIA_HOME}). */
    public Path home() {
        return running(home);
    }

    /** The configuration the server was started with. */
    public StackConfig stackConfig() {
        return running(config);
    }

    /** A plaintext channel to the server (closed with it). */
    public ManagedChannel channel() {
        return running(channel);
    }

    /** A stub on {@link #channel()} that sends {@code token}: {@code stub(EvaOsServiceGrpc::newBlockingStub, t)}. */
    public <S extends AbstractStub<S>> S stub(Function<Channel, S> newStub, String token) {
        return newStub.apply(channel()).withInterceptors(TestCredentials.bearer(token));
    }

    /** A web client of {@link #httpUri()} that sends {@code token}. */
    public WebClient rest(String token) {
        return TestCredentials.webClient(httpUri().toString(), token);
    }

    /** An access token of {@code user} in {@code tenant} with {@code role}. */
    public String token(String tenant, String user, Role role) {
        return TestCredentials.token(stackConfig(), tenant, user, role);
    }

    /** An access token of a plain user of {@code tenant}. */
    public String userToken(String tenant, String user) {
        return TestCredentials.userToken(stackConfig(), tenant, user);
    }

    /** An access token of the admin "admin" of {@code tenant}. */
    public String adminToken(String tenant) {
        return token(tenant, "admin", Role.ROLE_ADMIN);
    }

    /** An access token of the admin of the "default" tenant. */
    public String adminToken() {
        return TestCredentials.adminToken(stackConfig());
    }

    /** A credential of the Sonia service {@code caller} acting for itself (it may name any tenant). */
    public String serviceToken(String caller) {
        return ServiceCredentials.of(stackConfig()).issue(caller, Principal.service(caller));
    }

    private <T> T running(T value) {
        if (value == null) {
            throw new IllegalStateException(service + " is not running");
        }
        return value;
    }
}

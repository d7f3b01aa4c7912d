package ai.sonia.pipecat;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import com.linecorp.armeria.client.WebClient;

import ai.sonia.common.v1.Role;
import ai.sonia.pipecat.v1.PipecatServiceGrpc;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.testing.SoniaServiceExtension;

/**
 * A real pipecat server started by the runtime's {@link SoniaServiceExtension} (fresh home under target/,
 * free port), with a test gateway on the same home's keys. {@code settings} are environment overrides
 * ({@code SONIA_PIPECAT_...}). Clients carry a token signed with the home's keys: by default that of
 * {@link #USER} of {@link #TENANT}. A test class shares one as a {@code static final} field registered with
 * {@code @RegisterExtension}: it starts with the class and stops after its last test.
 */
final class PipecatHarness implements AutoCloseable, AfterAllCallback {

    static final String TENANT = "acme";
    static final String USER = "ada";

    private final SoniaServiceExtension pipecat;
    private final Map<String, String> settings;
    private Runnable beforeStart = () -> {};
    private boolean ownsGateway = true;
    TestGateway gateway;
    StackConfig config;
    /** The access token of {@link #USER}, the default for every client of the harness. */
    final String token;

    PipecatHarness(Map<String, String> settings) {
        this("", settings);
    }

    /** On a home whose {@code config/sonia.json} is {@code stackConfig} (none when empty). */
    PipecatHarness(String stackConfig, Map<String, String> settings) {
        this.settings = new HashMap<>(settings);
        final SoniaServiceExtension server = SoniaServiceExtension.of(new PipecatModule()).factory(this::newServer);
        pipecat = (stackConfig.isEmpty() ? server : server.stackConfig(stackConfig)).start();
        config = pipecat.stackConfig();
        token = userToken(TENANT, USER);
    }

    PipecatHarness() {
        this(Map.of());
    }

    // Another replica of `first`: on its home (its SQLite file), its settings (with `changed` put over them) and its
    // gateway.
    private PipecatHarness(PipecatHarness first, Map<String, String> changed) {
        settings = new HashMap<>(first.settings);
        settings.putAll(changed);
        gateway = first.gateway;
        ownsGateway = false;
        pipecat = SoniaServiceExtension.of(new PipecatModule()).home(first.pipecat.home()).factory(this::newServer)
                                       .start();
        config = pipecat.stackConfig();
        token = first.token;
    }

    /**
     * A second pipecat server beside this one, as another replica of the service: the same home (one session store,
     * one SQLite file), settings, keys and test gateway. Close it before this one.
     */
    PipecatHarness replica() {
        return replica(Map.of());
    }

    /** {@link #replica()} with {@code changed} settings over this one's (another fan-out, say). */
    PipecatHarness replica(Map<String, String> changed) {
        return new PipecatHarness(this, changed);
    }

    /**
     * Two replicas of a test class, {@link #a} and {@link #b} beside it ({@link #replica()}): made when the class
     * starts by {@code first} (called then: register it with a higher {@code @Order} than the engines' extensions
     * it needs, which JUnit otherwise orders as it likes), closed after it, B first.
     */
    static final class Replicas implements BeforeAllCallback, AfterAllCallback {
        private final Supplier<PipecatHarness> first;
        PipecatHarness a;
        PipecatHarness b;

        Replicas(Supplier<PipecatHarness> first) {
            this.first = first;
        }

        @Override
        public void beforeAll(ExtensionContext context) {
            a = first.get();
            b = a.replica();
        }

        @Override
        public void afterAll(ExtensionContext context) {
            if (b != null) {
                b.close();
            }
            if (a != null) {
                a.close();
            }
        }
    }

    // The gateway starts with the first server, on the same home, and serves every restart.
    private SoniaServer newServer(StackConfig stackConfig) {
        beforeStart.run();
        beforeStart = () -> {};
        if (gateway == null) {
            gateway = new TestGateway(stackConfig);
            settings.put("SONIA_GATEWAY_TARGET", gateway.target());
        }
        return new PipecatModule().newServer(stackConfig.withEnv(settings));
    }

    /** Stops the server and starts a new one on the same data directory and port. */
    void restart() {
        restart(() -> {});
    }

    /** Stops the server, runs {@code whileStopped} (to change its data, say), and starts a new one. */
    void restart(Runnable whileStopped) {
        beforeStart = whileStopped;
        pipecat.restart();
    }

    int port() {
        return pipecat.port();
    }

    String userToken(String tenant, String user) {
        return pipecat.userToken(tenant, user);
    }

    String adminToken(String tenant) {
        return pipecat.token(tenant, "boss", Role.ROLE_ADMIN);
    }

    PipecatServiceGrpc.PipecatServiceBlockingStub blocking() {
        return blocking(token);
    }

    PipecatServiceGrpc.PipecatServiceBlockingStub blocking(String token) {
        return pipecat.stub(PipecatServiceGrpc::newBlockingStub, token);
    }

    PipecatServiceGrpc.PipecatServiceStub async() {
        return async(token);
    }

    PipecatServiceGrpc.PipecatServiceStub async(String token) {
        return pipecat.stub(PipecatServiceGrpc::newStub, token);
    }

    /** A REST client sending {@code token}. */
    WebClient rest(String token) {
        return pipecat.rest(token);
    }

    WsClient ws(String sessionId, long lastSequence) throws Exception {
        return ws(token, sessionId, lastSequence);
    }

    WsClient ws(String token, String sessionId, long lastSequence) throws Exception {
        return WsClient.connect(port(), sessionId, lastSequence, null, token);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        // A @Nested class shares its outer class's server: only the outer class's end closes it.
        if (context.getTestClass().map(c -> c.getEnclosingClass() == null
                                            || java.lang.reflect.Modifier.isStatic(c.getModifiers())).orElse(true)) {
            close();
        }
    }

    @Override
    public void close() {
        pipecat.close();
        if (gateway != null && ownsGateway) {
            gateway.close();
        }
    }
}

package ai.sonia.router;

import java.util.Map;

import com.linecorp.armeria.client.WebClient;

import ai.sonia.common.v1.Role;
import ai.sonia.router.v1.RouterServiceGrpc;
import ai.sonia.router.v1.RouterServiceGrpc.RouterServiceBlockingStub;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.testing.SoniaServiceExtension;

/**
 * A real router on a free loopback port, through the runtime's {@link SoniaServiceExtension} (its test home,
 * restart and cleanup), configured by the JSON of its {@code services.router} and the environment given
 * (provider URLs and keys); clients carry real access tokens signed with the home's keys. {@link #stub} is
 * the admin of tenant "default".
 */
final class RouterFixture implements AutoCloseable {

    final SoniaServiceExtension service;
    final StackConfig config;
    final RouterServiceBlockingStub stub;

    RouterFixture(String routerSectionJson) {
        this(routerSectionJson, Map.of());
    }

    RouterFixture(String routerSectionJson, Map<String, String> env) {
        service = SoniaServiceExtension.of(new RouterModule()).config(routerSectionJson)
                                       .factory(config -> new RouterModule().newServer(config.withEnv(env)))
                                       .start();
        config = service.stackConfig();
        stub = as(service.adminToken());
    }

    /** Stops this router and starts a new one on the same home (config, keys and ledger) and port. */
    void restart() {
        service.restart();
    }

    /** An access token of {@code user} in {@code tenant}. */
    String token(String tenant, String user, Role role) {
        return service.token(tenant, user, role);
    }

    /** A credential of a Sonia service acting for itself (trusted across tenants). */
    String serviceToken() {
        return service.serviceToken("gateway");
    }

    /** A gRPC stub that calls with {@code token}. */
    RouterServiceBlockingStub as(String token) {
        return service.stub(RouterServiceGrpc::newBlockingStub, token);
    }

    /** A REST client that calls with {@code token}. */
    WebClient web(String token) {
        return service.rest(token);
    }

    /** A REST client of the admin of tenant "default". */
    WebClient web() {
        return web(service.adminToken());
    }

    String uri() {
        return service.httpUri().toString();
    }

    /** A loopback URL where nothing listens: connections are refused. */
    static String closedUrl() {
        return "http://127.0.0.1:" + ai.sonia.runtime.testing.FreePorts.pick();
    }

    @Override
    public void close() {
        service.close();
    }
}

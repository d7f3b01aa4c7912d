package ai.sonia.gateway.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;

import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.server.Server;

import ai.sonia.runtime.Correlation;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.testing.TestHomes;
import io.netty.util.AttributeKey;

/**
 * The gateway's relay to a service's REST routes over two replicas: a replica that has just died (its health check
 * not yet failed) costs no request, whatever its method (it was never processed: the next replica takes it); with
 * none reachable the answer is UNAVAILABLE at once, never INTERNAL (ClusterIT found a 500 there) and not after the
 * response timeout.
 */
class DownstreamRestReplicasTest {

    @Test
    void aReplicaThatJustDiedCostsNoRequestAndNoneReachableIsUnavailable() {
        final Server live = replica();
        final Server dying = replica();
        final int closed = dying.activeLocalPort(); // once it is stopped
        final Map<String, String> env = new HashMap<>(TestHomes.env(TestHomes.create("downstream-rest")));
        env.put("SONIA_EVAOS_TARGET", "127.0.0.1:" + live.activeLocalPort() + ",127.0.0.1:" + dying.activeLocalPort());
        final List<Server> stopAtEnd = new ArrayList<>(List.of(live));
        try (ClientFactory factory = DownstreamRest.clientFactory(StackConfig.load(env));
             DownstreamRest relay = new DownstreamRest(StackConfig.load(env), Stack.EVAOS, factory)) {
            final WebClient client = WebClient.of("http://127.0.0.1:" + serve(relay, stopAtEnd).activeLocalPort());
            // Both healthy: requests go round robin over the two.
            for (int i = 0; i < 4; i++) {
                final AggregatedHttpResponse answer = client.get("/v1/approvals").aggregate().join();
                assertThat(answer.status().code()).as(answer.contentUtf8()).isEqualTo(200);
            }
            dying.stop().join();
            for (int i = 0; i < 6; i++) {
                final AggregatedHttpResponse answer = client.post("/v1/approvals/a:decide", "{}").aggregate().join();
                assertThat(answer.status().code()).as(answer.contentUtf8()).isEqualTo(200);
            }
            // No replica reachable at all: UNAVAILABLE at once, not after the response timeout.
            try (DownstreamRest none = new DownstreamRest(StackConfig.load(noneReachable(env, closed)), Stack.EVAOS,
                                                          factory)) {
                final AggregatedHttpResponse unavailable =
                        WebClient.of("http://127.0.0.1:" + serve(none, stopAtEnd).activeLocalPort())
                                 .get("/v1/approvals").aggregate().join();
                assertThat(unavailable.status().code()).as(unavailable.contentUtf8()).isEqualTo(503);
                assertThat(unavailable.contentUtf8()).contains("\"code\":\"UNAVAILABLE\"", "evaos is unavailable");
            }
        } finally {
            CompletableFuture.allOf(stopAtEnd.stream().map(Server::stop).toArray(CompletableFuture[]::new)).join();
        }
    }

    private static Map<String, String> noneReachable(Map<String, String> env, int closed) {
        final Map<String, String> none = new HashMap<>(env);
        none.put("SONIA_EVAOS_TARGET", "127.0.0.1:" + closed + ",127.0.0.1:" + closed);
        return none;
    }

    /** The relay on a server of its own, with the correlation id the SoniaServer's decorator gives every request. */
    private static Server serve(DownstreamRest relay, List<Server> stopAtEnd) {
        final Server gateway = Server.builder().http(0).serviceUnder("/", relay).decorator((delegate, ctx, req) -> {
            ctx.setAttr(AttributeKey.valueOf(Correlation.class, "ID"), "downstream-rest-test");
            return delegate.serve(ctx, req);
        }).build();
        gateway.start().join();
        stopAtEnd.add(gateway);
        return gateway;
    }

    private static Server replica() {
        final Server server = Server.builder().http(0).gracefulShutdownTimeoutMillis(0, 0).service("/healthz", (ctx, req) -> HttpResponse.of(200))
                                    .serviceUnder("/v1/", (ctx, req) -> HttpResponse.of(200)).build();
        server.start().join();
        return server;
    }
}

package ai.sonia.gateway.console;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.Endpoint;
import com.linecorp.armeria.client.UnprocessedRequestException;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.endpoint.EndpointGroup;
import com.linecorp.armeria.client.endpoint.EndpointGroupException;
import com.linecorp.armeria.client.endpoint.healthcheck.HealthCheckedEndpointGroup;
import com.linecorp.armeria.client.retry.Backoff;
import com.linecorp.armeria.client.retry.RetryRule;
import com.linecorp.armeria.client.retry.RetryingClient;
import com.linecorp.armeria.client.websocket.WebSocketClient;
import com.linecorp.armeria.common.Flags;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpHeaders;
import com.linecorp.armeria.common.HttpHeadersBuilder;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.RequestHeadersBuilder;
import com.linecorp.armeria.common.SessionProtocol;
import com.linecorp.armeria.common.util.Exceptions;
import com.linecorp.armeria.common.websocket.CloseWebSocketFrame;
import com.linecorp.armeria.common.websocket.WebSocket;
import com.linecorp.armeria.common.websocket.WebSocketCloseStatus;
import com.linecorp.armeria.common.websocket.WebSocketFrame;
import com.linecorp.armeria.common.websocket.WebSocketWriter;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.websocket.WebSocketServiceHandler;

import ai.sonia.runtime.Correlation;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.auth.ForwardedClient;
import ai.sonia.runtime.edge.Envelopes;
import ai.sonia.runtime.edge.WebSocketLengthGuard;
import ai.sonia.runtime.tls.TlsMaterial;
import ai.sonia.runtime.tls.TlsSettings;
import io.grpc.Status;

/**
 * A downstream service's own REST routes, reached through the gateway's origin: the request goes on as it came
 * (method, path, query, body, the caller's {@code Authorization}, the correlation id) and the service's answer (its
 * envelope) comes back as it is. So a page served by the gateway (the console) calls EVA-OS's approvals and
 * Memory's search and forget under the same origin and credential, with nothing added to their contracts: the
 * service authenticates and authorizes the caller itself. {@link #socket()} does the same for the service's
 * WebSockets (Pipecat's {@code /ws/{session_id}}): every frame both ways as it is, closes with their code, and the
 * browser's address vouched for ({@link ForwardedClient}).
 */
public final class DownstreamRest implements HttpService, AutoCloseable {

    /** How long the relay waits to reach a replica: a connection's timeout, and the wait for a healthy one. */
    static final Duration REACH = Duration.ofMillis(Flags.defaultConnectTimeoutMillis());

    private final WebClient client;
    private final WebSocketClient sockets;
    private final EndpointGroup replicas;
    private final ForwardedClient forwarded;
    private final String service;

    /**
     * The relay to {@code spec}'s REST routes, its connections made by {@code factory} (one {@link #clientFactory}
     * shared by the gateway's relays; closing the relay leaves the factory open).
     */
    public DownstreamRest(StackConfig config, ServiceSpec spec, ClientFactory factory) {
        service = spec.name();
        forwarded = ForwardedClient.of(config);
        final TlsSettings tls = TlsSettings.from(config);
        final SessionProtocol protocol = tls.serves(spec) ? SessionProtocol.HTTPS : SessionProtocol.HTTP;
        replicas = replicas(config.targets(spec), protocol, factory);
        // A request that never reached a replica (connection refused: one just died, and its health check has
        // not yet said so) goes to the next one, whatever its method: nothing was processed. None healthy at all
        // (no endpoint, or none selected in time) is not retried (each try would wait out the selection again).
        client = WebClient.builder(protocol, replicas).factory(factory)
                          .decorator(RetryingClient.newDecorator(
                                  RetryRule.builder()
                                           .onException((ctx, e) -> e instanceof UnprocessedRequestException
                                                                    && !(e.getCause() instanceof EndpointGroupException))
                                           .thenBackoff(Backoff.withoutDelay()), 3))
                          .build();
        // HTTP/1.1 upgrade, as browsers do (the services' sockets take no HTTP/2 extended CONNECT).
        sockets = WebSocketClient.builder(tls.serves(spec) ? SessionProtocol.H1 : SessionProtocol.H1C, replicas)
                                 .factory(factory).autoFillOriginHeader(false) // the gateway checked the page's
                                 .decorator(WebSocketLengthGuard.client())
                                 .responseTimeoutMillis(0).maxResponseLength(0).build();
    }

    /**
     * The one client factory of the gateway's relays, so one TLS client context for all of them (each factory
     * makes its own when it is built): it trusts the stack's CA (or the configured one) and, with mutual TLS,
     * shows this stack's certificate. Only a service that serves TLS is reached over it; the others take plain
     * HTTP through the same factory.
     */
    public static ClientFactory clientFactory(StackConfig config) {
        final TlsSettings tls = TlsSettings.from(config);
        if (!tls.enabled() || !tls.mutual()) {
            return ClientFactory.builder().build(); // no downstream service serves TLS (TlsSettings.serves)
        }
        final TlsMaterial own = tls.material();
        final Path trust = tls.ca() != null ? tls.ca() : own.trust();
        return ClientFactory.builder().tlsCustomizer(b -> {
            if (trust != null) {
                b.trustManager(trust.toFile());
            }
            b.keyManager(own.certChain().toFile(), own.key().toFile());
        }).build();
    }

    /**
     * The service's one address, or its replicas (a target that lists several): requests go round-robin to
     * those whose {@code /healthz} answers, so one replica down leaves the others serving. A request waits for a
     * healthy replica no longer than the relay's own deadline for reaching one ({@link #REACH}), not the
     * response timeout (10 s): with none reachable the page gets UNAVAILABLE promptly.
     */
    private static EndpointGroup replicas(List<String> targets, SessionProtocol protocol, ClientFactory factory) {
        if (targets.size() == 1) {
            return Endpoint.parse(targets.get(0));
        }
        return HealthCheckedEndpointGroup.builder(EndpointGroup.of(targets.stream().map(Endpoint::parse).toList()),
                                                  "/healthz")
                                         .protocol(protocol).clientFactory(factory)
                                         .selectionTimeoutMillis(REACH.toMillis()).build();
    }

    /** The service's WebSocket at the same path, for a page of the gateway's origin. */
    public WebSocketServiceHandler socket() {
        return (ctx, in) -> {
            ctx.clearRequestTimeout(); // a conversation lasts as long as the person talking
            final WebSocketWriter out = WebSocket.streaming();
            final HttpHeadersBuilder headers = HttpHeaders.builder().set(Correlation.HEADER, Correlation.of(ctx));
            // The service's limits per address count the browser, not the gateway (signed, so no browser can).
            forwarded.forward(headers, Stack.GATEWAY.name(), ctx);
            final String authorization = ctx.request().headers().get(HttpHeaderNames.AUTHORIZATION);
            if (authorization != null) {
                headers.set(HttpHeaderNames.AUTHORIZATION, authorization);
            }
            sockets.connect(ctx.request().path(), headers.build()).handle((session, cause) -> {
                if (cause != null) {
                    in.abort();
                    out.close(WebSocketCloseStatus.INTERNAL_SERVER_ERROR, "the service did not accept the socket");
                    return null;
                }
                session.setOutbound(in);
                session.inbound().subscribe(new Relay(out));
                return null;
            });
            return out;
        };
    }

    /**
     * The service's frames to the page, one at a time: the next is asked for when the page's socket took the last,
     * so a page that reads slowly slows the service's socket (which then applies its own limits, e.g. Pipecat's
     * 4008) instead of filling the gateway's memory. The service's close frame becomes the page's, with its code.
     */
    private static final class Relay implements Subscriber<WebSocketFrame> {
        private final WebSocketWriter out;
        private Subscription subscription;

        Relay(WebSocketWriter out) {
            this.out = out;
        }

        @Override
        public void onSubscribe(Subscription subscription) {
            this.subscription = subscription;
            subscription.request(1);
        }

        @Override
        public void onNext(WebSocketFrame frame) {
            if (frame instanceof CloseWebSocketFrame close) {
                out.close(close.status(), close.reasonPhrase());
            } else if (out.tryWrite(frame)) {
                out.whenConsumed().thenRun(() -> subscription.request(1));
            } else {
                subscription.cancel(); // the page is gone
            }
        }

        @Override
        public void onError(Throwable cause) {
            out.close(WebSocketCloseStatus.INTERNAL_SERVER_ERROR, "the service's socket failed");
        }

        @Override
        public void onComplete() {
            out.close();
        }
    }

    @Override
    public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
        final RequestHeaders in = req.headers();
        final RequestHeadersBuilder out = RequestHeaders.builder(in.method(), in.path());
        for (var name : new io.netty.util.AsciiString[] {
                HttpHeaderNames.AUTHORIZATION, HttpHeaderNames.CONTENT_TYPE, HttpHeaderNames.ACCEPT}) {
            final String value = in.get(name);
            if (value != null) {
                out.set(name, value);
            }
        }
        out.set(Correlation.HEADER, Correlation.of(ctx)); // one id across the gateway and the service
        final HttpRequest relayed = req.withHeaders(out.build());
        // After the replicas' first health check: with none healthy, UNAVAILABLE at once.
        return HttpResponse.of(replicas.whenReady().handleAsync((unused, e) -> relay(ctx, relayed), ctx.eventLoop()));
    }

    private HttpResponse relay(ServiceRequestContext ctx, HttpRequest req) {
        if (replicas.endpoints().isEmpty()) {
            return unavailable(ctx);
        }
        return client.execute(req).recover(cause -> {
            if (Exceptions.peel(cause) instanceof UnprocessedRequestException) { // no replica could be reached
                return unavailable(ctx);
            }
            return HttpResponse.ofFailure(cause);
        });
    }

    private HttpResponse unavailable(ServiceRequestContext ctx) {
        return Envelopes.error(ctx, Stack.GATEWAY.name(), Status.Code.UNAVAILABLE, service + " is unavailable", null)
                        .toHttpResponse();
    }

    @Override
    public void close() {
        replicas.close();
    }
}

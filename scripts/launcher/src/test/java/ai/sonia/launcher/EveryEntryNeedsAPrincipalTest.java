package ai.sonia.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.server.Route;

import ai.sonia.options.v1.OptionsProto;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.testing.RawBytes;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

/**
 * Closed by default, checked over everything the six services serve: every HTTP route each server
 * registered (REST, gRPC, WebSocket, SSE, status, docs, metrics) and every method of every gRPC service in
 * its contract (plus health and reflection) answers 401 / UNAUTHENTICATED without a credential and with a
 * forged one. The only exceptions are {@code /healthz}, the methods the contract marks
 * {@code allow_anonymous}, and the gateway console's static files under {@code /console/}. The list comes from the running servers, so a new route is covered the day it lands.
 */
class EveryEntryNeedsAPrincipalTest {

    private static final String FORGED = "eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9"
                                         + ".eyJzdWIiOiJhZG1pbiIsInRlbmFudCI6ImRlZmF1bHQiLCJyb2xlIjoiYWRtaW4ifQ"
                                         + ".c2lnbmVkIGJ5IHNvbWVib2R5IGVsc2U";
    private static InProcessStack stack;

    @BeforeAll
    static void start() {
        stack = InProcessStack.shared();
    }

    /** The probes an orchestrator calls without a credential (readiness may be 503, never 401). */
    private static final java.util.Set<String> PROBES = java.util.Set.of("/healthz", "/livez", "/readyz", "/health",
                                                                         "/ready");

    @Test
    void everyHttpRouteButTheProbesRefusesRequestsWithoutAValidCredential() {
        final List<String> checked = new ArrayList<>();
        for (SoniaServer server : stack.servers()) {
            final WebClient http = WebClient.of("http://127.0.0.1:" + server.port());
            for (Route route : server.routes()) {
                final String path = concretePath(route);
                // The console's static files (the sign-in page and its script) are public by design: they hold
                // no data, and every call they make needs the credential.
                final boolean consoleFile = "gateway".equals(server.spec().name()) && path != null
                                            && path.startsWith(ai.sonia.gateway.console.ConsoleAssets.PREFIX);
                if (path == null || PROBES.contains(path) || anonymousRest(server, route) || consoleFile) {
                    continue;
                }
                for (String credential : new String[] {null, "Bearer " + FORGED, "Basic YWRtaW46YWRtaW4="}) {
                    final HttpMethod method = route.methods().contains(HttpMethod.GET) ? HttpMethod.GET
                                                                                      : route.methods().iterator().next();
                    final com.linecorp.armeria.common.RequestHeadersBuilder headers = RequestHeaders.builder(method, path)
                                                                         .contentType(MediaType.JSON_UTF_8);
                    if (credential != null) {
                        headers.add("authorization", credential);
                    }
                    final int status = http.execute(headers.build(), "{}").aggregate().join().status().code();
                    assertThat(status).as("%s %s %s with %s", server.spec().name(), method, path, credential)
                                      .isEqualTo(401);
                }
                checked.add(server.spec().name() + ' ' + path);
            }
            for (String probe : PROBES) {
                assertThat(http.get(probe).aggregate().join().status().code()).as(probe).isIn(200, 503);
            }
        }
        // The routes of note are among those covered, so this test cannot silently cover nothing.
        assertThat(checked).anyMatch(r -> r.startsWith("gateway /ws/"))
                           .anyMatch(r -> r.startsWith("pipecat /ws/"))
                           .anyMatch(r -> r.equals("gateway /v1/chat:stream"))
                           .anyMatch(r -> r.startsWith("memory /v1/memories"))
                           .anyMatch(r -> r.endsWith("/status"));
    }

    @Test
    void everyGrpcMethodButTheAnonymousOnesIsUnauthenticatedWithoutAValidCredential() throws Exception {
        int methods = 0;
        for (SoniaServer server : stack.servers()) {
            final ManagedChannel channel = NettyChannelBuilder.forTarget("127.0.0.1:" + server.port())
                                                              .usePlaintext().build();
            try {
                final List<String> names = new ArrayList<>(List.of("grpc.health.v1.Health/Check",
                                                                   "grpc.health.v1.Health/Watch",
                                                                   "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
                                                                   "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"));
                for (ServiceDescriptor service : server.grpcContract()) {
                    for (MethodDescriptor method : service.getMethods()) {
                        if (!method.getOptions().getExtension(OptionsProto.method).getAllowAnonymous()) {
                            names.add(service.getFullName() + '/' + method.getName());
                        }
                    }
                }
                for (String name : names) {
                    assertThat(call(channel, name, null)).as(server.spec().name() + ' ' + name)
                                                         .isEqualTo(Status.Code.UNAUTHENTICATED);
                    assertThat(call(channel, name, "Bearer " + FORGED)).as(server.spec().name() + ' ' + name)
                                                                       .isEqualTo(Status.Code.UNAUTHENTICATED);
                    methods++;
                }
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
        assertThat(methods).isGreaterThan(60);
    }

    /** Calls a method by name with an empty message, whatever its types, and returns the status code. */
    private static Status.Code call(ManagedChannel channel, String fullName, String authorization) throws Exception {
        final io.grpc.MethodDescriptor<byte[], byte[]> method =
                io.grpc.MethodDescriptor.<byte[], byte[]>newBuilder()
                                        .setType(io.grpc.MethodDescriptor.MethodType.BIDI_STREAMING)
                                        .setFullMethodName(fullName)
                                        .setRequestMarshaller(RawBytes.INSTANCE).setResponseMarshaller(RawBytes.INSTANCE).build();
        final ClientCall<byte[], byte[]> call = channel.newCall(method, CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS));
        final CompletableFuture<Status> closed = new CompletableFuture<>();
        final Metadata headers = new Metadata();
        if (authorization != null) {
            headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), authorization);
        }
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onClose(Status status, Metadata trailers) {
                closed.complete(status);
            }
        }, headers);
        call.request(1);
        call.sendMessage(new byte[0]);
        call.halfClose();
        return closed.get(10, TimeUnit.SECONDS).getCode();
    }


    /** A path that the route matches, with every variable filled in; null for a catch-all the others cover. */
    private static String concretePath(Route route) {
        final String pattern = route.patternString();
        return switch (route.pathType()) {
            case EXACT -> pattern;
            case PREFIX -> pattern.endsWith("/") ? pattern + "x" : pattern + "/x";
            case PARAMETERIZED -> pattern.replaceAll("\\{[^}]*}", "x").replaceAll(":[A-Za-z0-9_]+", "x");
            default -> null;
        };
    }

    /** REST routes of anonymous methods (login, refresh, ...) are the contract's exceptions. */
    private static boolean anonymousRest(SoniaServer server, Route route) {
        for (ServiceDescriptor service : server.grpcContract()) {
            for (MethodDescriptor method : service.getMethods()) {
                if (method.getOptions().getExtension(OptionsProto.method).getAllowAnonymous()) {
                    final var rule = method.getOptions().getExtension(com.google.api.AnnotationsProto.http);
                    final String path = concretePath(route);
                    for (String candidate : List.of(rule.getGet(), rule.getPost(), rule.getPut(), rule.getDelete(),
                                                    rule.getPatch(), '/' + service.getFullName() + '/' + method.getName())) {
                        if (!candidate.isEmpty() && candidate.equals(path)) {
                            return true;
                        }
                    }
                }
            }
        }
        return false;
    }
}

package ai.sonia.pipecat;

import static ai.sonia.pipecat.SessionLifecycleTest.post;
import static ai.sonia.runtime.testing.StatusDetails.errorInfo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.WebSocketHandshakeException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;

import ai.sonia.common.v1.Role;
import ai.sonia.pipecat.v1.Attach;
import ai.sonia.pipecat.v1.ConverseRequest;
import ai.sonia.pipecat.v1.ConverseResponse;
import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.GetSessionRequest;
import ai.sonia.pipecat.v1.ListSessionsRequest;
import ai.sonia.pipecat.v1.PauseSessionRequest;
import ai.sonia.pipecat.v1.PipecatServiceGrpc.PipecatServiceBlockingStub;
import ai.sonia.pipecat.v1.ResumeSessionRequest;
import ai.sonia.pipecat.v1.Session;
import ai.sonia.pipecat.v1.StartSessionRequest;
import ai.sonia.pipecat.v1.StopSessionRequest;
import ai.sonia.runtime.auth.Principal;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;

/**
 * A session is its owner's: by gRPC, REST and WebSocket, a user of another tenant, or another user of the
 * same tenant, finds nothing where the owner (or the tenant's admin) finds the session.
 */
class SessionOwnershipTest {

    private static PipecatHarness pipecat;
    private static String otherTenant;
    private static String sameTenantOtherUser;
    private static String admin;
    private static String otherAdmin;

    @BeforeAll
    static void start() throws Exception {
        pipecat = new PipecatHarness();
        otherTenant = pipecat.userToken("globex", PipecatHarness.USER);
        sameTenantOtherUser = pipecat.userToken(PipecatHarness.TENANT, "bob");
        admin = pipecat.adminToken(PipecatHarness.TENANT);
        otherAdmin = pipecat.adminToken("globex");
    }

    @AfterAll
    static void stop() {
        pipecat.close();
    }

    @Test
    void theOwnerComesFromTheTokenNeverFromTheRequest() {
        final Session created = pipecat.blocking().startSession(StartSessionRequest.getDefaultInstance());
        assertThat(created.getTenant()).isEqualTo(PipecatHarness.TENANT);
        assertThat(created.getUserId()).isEqualTo(PipecatHarness.USER);
        assertThatThrownBy(() -> pipecat.blocking().startSession(
                StartSessionRequest.newBuilder().setUserId("bob").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                    assertThat(errorInfo(e).getReason()).isEqualTo("PERMISSION_DENIED");
                });
        final AggregatedHttpResponse forged = pipecat.rest(pipecat.token)
                                                     .execute(post("/session/start", "{\"user_id\":\"bob\"}"))
                                                     .aggregate().join();
        assertThat(forged.status().code()).isEqualTo(403);
        assertThat(forged.contentUtf8()).contains("\"code\":\"PERMISSION_DENIED\"");
    }

    @Test
    void strangersFindNothingByGrpc() {
        final String id = newSession();
        for (String stranger : List.of(otherTenant, sameTenantOtherUser, otherAdmin)) {
            final PipecatServiceBlockingStub stub = pipecat.blocking(stranger);
            assertLooksUnknown(() -> stub.getSession(GetSessionRequest.newBuilder().setSessionId(id).build()), id);
            assertLooksUnknown(() -> stub.pauseSession(PauseSessionRequest.newBuilder().setSessionId(id).build()), id);
            assertLooksUnknown(() -> stub.resumeSession(ResumeSessionRequest.newBuilder().setSessionId(id).build()),
                               id);
            assertLooksUnknown(() -> stub.stopSession(StopSessionRequest.newBuilder().setSessionId(id).build()), id);
            assertThat(stub.listSessions(ListSessionsRequest.getDefaultInstance()).getSessionsList())
                    .extracting(Session::getSessionId).doesNotContain(id);
        }
        // Nothing the strangers tried changed it; its owner and the tenant's admin still reach it.
        assertThat(pipecat.blocking().getSession(GetSessionRequest.newBuilder().setSessionId(id).build()).getState())
                .isEqualTo(ai.sonia.pipecat.v1.SessionState.SESSION_STATE_CREATED);
        assertThat(pipecat.blocking(admin).stopSession(StopSessionRequest.newBuilder().setSessionId(id).build())
                          .getUserId()).isEqualTo(PipecatHarness.USER);
        // A closed session stays hidden too: no CONFLICT to tell that it exists.
        assertLooksUnknown(() -> pipecat.blocking(otherTenant).stopSession(
                StopSessionRequest.newBuilder().setSessionId(id).build()), id);
    }

    @Test
    void listingShowsOwnSessionsAndTheAdminTheTenants() {
        final String mine = newSession();
        final String bobs = pipecat.blocking(sameTenantOtherUser).startSession(StartSessionRequest.getDefaultInstance())
                                   .getSessionId();
        final String globex = pipecat.blocking(otherTenant).startSession(StartSessionRequest.getDefaultInstance())
                                     .getSessionId();
        assertThat(ids(pipecat.blocking())).contains(mine).doesNotContain(bobs, globex);
        assertThat(ids(pipecat.blocking(sameTenantOtherUser))).contains(bobs).doesNotContain(mine, globex);
        assertThat(ids(pipecat.blocking(admin))).contains(mine, bobs).doesNotContain(globex);
        assertThat(ids(pipecat.blocking(otherAdmin))).contains(globex).doesNotContain(mine, bobs);
        assertThat(pipecat.blocking(admin).listSessions(ListSessionsRequest.getDefaultInstance()).getSessionsList())
                .allSatisfy(s -> assertThat(s.getTenant()).isEqualTo(PipecatHarness.TENANT));
    }

    @Test
    void strangersFindNothingByRest() {
        final String id = newSession();
        for (String stranger : List.of(otherTenant, sameTenantOtherUser)) {
            final WebClient rest = pipecat.rest(stranger);
            final AggregatedHttpResponse got = rest.get("/session/" + id).aggregate().join();
            assertThat(got.status().code()).isEqualTo(404);
            assertThat(got.contentUtf8()).contains("\"code\":\"NOT_FOUND\"");
            for (String verb : List.of("pause", "resume", "stop")) {
                assertThat(rest.execute(post("/session/" + verb, "{\"session_id\":\"" + id + "\"}"))
                               .aggregate().join().status().code()).isEqualTo(404);
            }
            assertThat(rest.get("/sessions").aggregate().join().contentUtf8()).doesNotContain(id);
        }
        assertThat(pipecat.rest(admin).get("/session/" + id).aggregate().join().status().code()).isEqualTo(200);
    }

    @Test
    void strangersFindNothingByWebSocket() throws Exception {
        final String id = newSession();
        for (String stranger : List.of(otherTenant, sameTenantOtherUser)) {
            final WsClient client = pipecat.ws(stranger, id, 0);
            assertThat(client.awaitClose()).isEqualTo(4001);
            assertThat(client.events).singleElement().satisfies(e -> {
                assertThat(e.getErrorCode()).isEqualTo("NOT_FOUND");
                assertThat(e.getText()).isEqualTo("session not found: " + id);
            });
        }
        // Exactly what an unknown session gets.
        final WsClient ghost = pipecat.ws(pipecat.token, "ghost", 0);
        assertThat(ghost.awaitClose()).isEqualTo(4001);
        assertThat(ghost.events).singleElement().satisfies(e -> assertThat(e.getErrorCode()).isEqualTo("NOT_FOUND"));
        // The strangers did not make it ACTIVE.
        assertThat(pipecat.blocking().getSession(GetSessionRequest.newBuilder().setSessionId(id).build()).getState())
                .isEqualTo(ai.sonia.pipecat.v1.SessionState.SESSION_STATE_CREATED);
        final WsClient byAdmin = pipecat.ws(admin, id, 0);
        byAdmin.await(e -> e.getText().equals("state=ACTIVE"));
        byAdmin.close();
    }

    @Test
    void strangersFindNothingByTheConverseStream() throws Exception {
        final String id = newSession();
        for (String stranger : List.of(otherTenant, sameTenantOtherUser)) {
            final CompletableFuture<Status> done = new CompletableFuture<>();
            final StreamObserver<ConverseRequest> requests = pipecat.async(stranger).converse(new StreamObserver<>() {
                @Override
                public void onNext(ConverseResponse value) {}

                @Override
                public void onError(Throwable t) {
                    done.complete(Status.fromThrowable(t));
                }

                @Override
                public void onCompleted() {
                    done.complete(Status.OK);
                }
            });
            requests.onNext(ConverseRequest.newBuilder().setAttach(Attach.newBuilder().setSessionId(id)).build());
            final Status status = done.get(20, TimeUnit.SECONDS);
            assertThat(status.getCode()).isEqualTo(Status.Code.NOT_FOUND);
            assertThat(status.getDescription()).isEqualTo("unknown session");
        }
    }

    @Test
    void theWebSocketNeedsAToken() throws Exception {
        final String id = newSession();
        assertHandshakeRefused(() -> WsClient.connect(pipecat.port(), id, 0, null, null), 401);
        assertHandshakeRefused(() -> WsClient.connect(pipecat.port(), id, 0, null, "not-a-token"), 401);
        // A foreign origin is refused even with a valid token; a local one is let in.
        assertHandshakeRefused(() -> WsClient.connect(pipecat.port(), id, 0, "https://evil.example", pipecat.token),
                               403);
        // Browsers cannot set headers on a WebSocket: the token may come as a query parameter.
        final WsClient browser = WsClient.connect(pipecat.port(), id + "?access_token=" + pipecat.token,
                                                  "http://localhost:5173", null);
        browser.await(e -> e.getType() == EventType.EVENT_TYPE_SESSION_START);
        browser.close();
    }

    @Test
    void chatTurnsActForTheSessionsOwner() throws Exception {
        final String id = newSession();
        // Even when the tenant's admin is the one typing, the assistant answers for the session's owner.
        for (String token : List.of(pipecat.token, admin)) {
            final int before = pipecat.gateway.principals.size();
            final WsClient client = pipecat.ws(token, id, 0);
            final String text = "who am I " + before;
            client.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"text\":\"" + text + "\"}");
            client.await(e -> e.getText().equals("echo: " + text));
            client.close();
            final Principal seen = pipecat.gateway.principals.get(before);
            assertThat(seen.kind()).isEqualTo(Principal.Kind.USER);
            assertThat(seen.tenant()).isEqualTo(PipecatHarness.TENANT);
            assertThat(seen.subject()).isEqualTo(PipecatHarness.USER);
            assertThat(seen.role()).isEqualTo(Role.ROLE_USER);
            assertThat(seen.via()).isEqualTo("pipecat");
        }
    }

    @Test
    void aRestartKeepsOwnership() throws Exception {
        try (PipecatHarness durable = new PipecatHarness()) {
            final String id = durable.blocking().startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
            durable.restart();
            final Session after = durable.blocking().getSession(
                    GetSessionRequest.newBuilder().setSessionId(id).build());
            assertThat(after.getTenant()).isEqualTo(PipecatHarness.TENANT);
            assertThat(after.getUserId()).isEqualTo(PipecatHarness.USER);
            final String stranger = durable.userToken("globex", PipecatHarness.USER);
            assertLooksUnknown(() -> durable.blocking(stranger).getSession(
                    GetSessionRequest.newBuilder().setSessionId(id).build()), id);
            assertThat(durable.blocking(stranger).listSessions(ListSessionsRequest.getDefaultInstance())
                              .getSessionsList()).isEmpty();
            assertThat(durable.ws(stranger, id, 0).awaitClose()).isEqualTo(4001);
            // After a restart the chat still acts for the owner, whose principal is rebuilt from the store.
            final WsClient owner = durable.ws(id, 0);
            owner.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"text\":\"still me\"}");
            owner.await(e -> e.getText().equals("echo: still me"));
            owner.close();
            assertThat(durable.gateway.principals).singleElement()
                                                  .satisfies(p -> assertThat(p.audit()).isEqualTo("acme/ada"));
        }
    }

    private static String newSession() {
        return pipecat.blocking().startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
    }

    private static List<String> ids(PipecatServiceBlockingStub stub) {
        return stub.listSessions(ListSessionsRequest.newBuilder().setPageSize(1000).build()).getSessionsList()
                   .stream().map(Session::getSessionId).toList();
    }

    // Exactly what a session that does not exist gets: NOT_FOUND, the same message and metadata.
    static void assertLooksUnknown(Runnable call, String id) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
            assertThat(e.getStatus().getDescription()).isEqualTo("session not found: " + id);
            assertThat(errorInfo(e).getReason()).isEqualTo("NOT_FOUND");
            assertThat(errorInfo(e).getMetadataMap()).containsExactlyEntriesOf(java.util.Map.of("session_id", id));
        });
    }

    private static void assertHandshakeRefused(ThrowingCall connect, int status) {
        assertThatThrownBy(connect::call)
                .cause().isInstanceOfSatisfying(WebSocketHandshakeException.class,
                                                e -> assertThat(e.getResponse().statusCode()).isEqualTo(status));
    }

    /** A call that may throw. */
    private interface ThrowingCall {
        Object call() throws Exception;
    }
}

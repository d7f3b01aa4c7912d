package ai.sonia.pipecat;

import static ai.sonia.runtime.testing.StatusDetails.errorInfo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.google.protobuf.FieldMask;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.MediaType;

import ai.sonia.pipecat.v1.DeleteSessionRequest;
import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.GetSessionRequest;
import ai.sonia.pipecat.v1.ListSessionsRequest;
import ai.sonia.pipecat.v1.ListSessionsResponse;
import ai.sonia.pipecat.v1.PauseSessionRequest;
import ai.sonia.pipecat.v1.PipecatServiceGrpc;
import ai.sonia.pipecat.v1.PipecatServiceGrpc.PipecatServiceBlockingStub;
import ai.sonia.pipecat.v1.ResumeSessionRequest;
import ai.sonia.pipecat.v1.Session;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.pipecat.v1.SessionState;
import ai.sonia.pipecat.v1.StartSessionRequest;
import ai.sonia.pipecat.v1.StopSessionRequest;
import ai.sonia.pipecat.v1.UpdateSessionRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

class SessionLifecycleTest {

    @RegisterExtension
    static final PipecatHarness pipecat = new PipecatHarness(Map.of("SONIA_PIPECAT_MAX_LIVE_SESSIONS", "20"));

    @Test
    void walksTheStateMachineAndRefusesInvalidTransitions() throws Exception {
        final var stub = pipecat.blocking();
        // Naming oneself is allowed (anybody else is PERMISSION_DENIED).
        final Session created = stub.startSession(
                StartSessionRequest.newBuilder().setUserId(PipecatHarness.USER).build());
        final String id = created.getSessionId();
        assertThat(created.getState()).isEqualTo(SessionState.SESSION_STATE_CREATED);
        assertThat(created.getLastSequence()).isEqualTo(1);

        assertConflict(() -> stub.pauseSession(PauseSessionRequest.newBuilder().setSessionId(id).build()));
        assertConflict(() -> stub.resumeSession(ResumeSessionRequest.newBuilder().setSessionId(id).build()));

        final WsClient client = pipecat.ws(id, 0);
        client.await(e -> e.getType() == EventType.EVENT_TYPE_STATUS && e.getText().equals("state=ACTIVE"));
        assertThat(stub.getSession(get(id)).getState()).isEqualTo(SessionState.SESSION_STATE_ACTIVE);

        assertThat(stub.pauseSession(PauseSessionRequest.newBuilder().setSessionId(id).build()).getState())
                .isEqualTo(SessionState.SESSION_STATE_PAUSED);
        assertConflict(() -> stub.pauseSession(PauseSessionRequest.newBuilder().setSessionId(id).build()));
        client.sendEvent(SessionEvent.newBuilder().setType(EventType.EVENT_TYPE_MESSAGE).setText("hi").build());
        assertThat(client.await(e -> e.getType() == EventType.EVENT_TYPE_ERROR).getErrorCode()).isEqualTo("CONFLICT");

        assertThat(stub.resumeSession(ResumeSessionRequest.newBuilder().setSessionId(id).build()).getState())
                .isEqualTo(SessionState.SESSION_STATE_ACTIVE);
        final Session stopped = stub.stopSession(StopSessionRequest.newBuilder().setSessionId(id)
                                                                   .setReason("done").build());
        assertThat(stopped.getState()).isEqualTo(SessionState.SESSION_STATE_CLOSED);
        assertThat(stopped.getMetadataMap()).containsEntry("stop_reason", "done");
        assertThat(client.awaitClose()).isEqualTo(1000);
        assertThat(client.sequences()).containsExactly(1L, 2L, 3L, 4L, 5L);

        assertConflict(() -> stub.resumeSession(ResumeSessionRequest.newBuilder().setSessionId(id).build()));
        assertConflict(() -> stub.pauseSession(PauseSessionRequest.newBuilder().setSessionId(id).build()));
        // Stopping twice is idempotent.
        assertThat(stub.stopSession(StopSessionRequest.newBuilder().setSessionId(id).build()).getState())
                .isEqualTo(SessionState.SESSION_STATE_CLOSED);
    }

    @Test
    void unknownSessionIsNotFoundWithErrorInfo() {
        final var stub = pipecat.blocking();
        assertThatThrownBy(() -> stub.getSession(get("nope")))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(errorInfo(e).getReason()).isEqualTo("NOT_FOUND");
                });
        assertThatThrownBy(() -> stub.getSession(get("")))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    }

    @Test
    void listsNewestFirstPageByPage() {
        final var stub = pipecat.blocking();
        final Set<String> started = new HashSet<>();
        for (int i = 0; i < 5; i++) {
            started.add(stub.startSession(StartSessionRequest.getDefaultInstance()).getSessionId());
        }
        final Set<String> seen = new HashSet<>();
        String token = "";
        int pages = 0;
        do {
            final ListSessionsResponse page = stub.listSessions(
                    ListSessionsRequest.newBuilder().setPageSize(2).setPageToken(token)
                                       .setState(SessionState.SESSION_STATE_CREATED).build());
            assertThat(page.getSessionsCount()).isLessThanOrEqualTo(2);
            page.getSessionsList().forEach(s -> assertThat(seen.add(s.getSessionId())).isTrue());
            token = page.getNextPageToken();
            pages++;
        } while (!token.isEmpty() && pages < 100);
        assertThat(seen).containsAll(started);
        assertThatThrownBy(() -> stub.listSessions(ListSessionsRequest.newBuilder().setPageSize(-1).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
        assertThatThrownBy(() -> stub.listSessions(ListSessionsRequest.newBuilder().setPageToken("!!").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    }

    @Test
    void pagesNeitherSkipNorRepeatWhileSessionsStart() {
        final var stub = pipecat.blocking(pipecat.userToken(PipecatHarness.TENANT, "pager"));
        final List<String> started = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            started.add(stub.startSession(StartSessionRequest.getDefaultInstance()).getSessionId());
        }
        final List<String> seen = new ArrayList<>();
        String token = "";
        do {
            final ListSessionsResponse page = stub.listSessions(
                    ListSessionsRequest.newBuilder().setPageSize(2).setPageToken(token).build());
            page.getSessionsList().forEach(s -> seen.add(s.getSessionId()));
            token = page.getNextPageToken();
            // Started between two pages: newer than every page to come, so on none of them.
            started.add(stub.startSession(StartSessionRequest.getDefaultInstance()).getSessionId());
        } while (!token.isEmpty());
        assertThat(seen).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(started.subList(0, 5));
        started.forEach(id -> stub.stopSession(StopSessionRequest.newBuilder().setSessionId(id).build()));
    }

    @Test
    void aPageTokenOfAnotherListingIsInvalidArgument() {
        final var pager = pipecat.blocking(pipecat.userToken(PipecatHarness.TENANT, "pager-2"));
        final List<String> started = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            started.add(pager.startSession(StartSessionRequest.getDefaultInstance()).getSessionId());
        }
        final String token = pager.listSessions(ListSessionsRequest.newBuilder().setPageSize(1).build())
                                  .getNextPageToken();
        assertThat(token).isNotEmpty();
        // Another user's listing, and the same user's listing with another filter.
        assertInvalidPageToken(() -> pipecat.blocking().listSessions(
                ListSessionsRequest.newBuilder().setPageSize(1).setPageToken(token).build()));
        assertInvalidPageToken(() -> pager.listSessions(
                ListSessionsRequest.newBuilder().setPageSize(1).setPageToken(token)
                                   .setState(SessionState.SESSION_STATE_CLOSED).build()));
        started.forEach(id -> pager.stopSession(StopSessionRequest.newBuilder().setSessionId(id).build()));
    }

    @Test
    void aRetriedStartWithTheSameRequestIdReturnsTheFirstSession() {
        final var stub = pipecat.blocking(pipecat.userToken(PipecatHarness.TENANT, "retrier"));
        final StartSessionRequest request = StartSessionRequest.newBuilder().setRequestId("req-1").build();
        final String first = stub.startSession(request).getSessionId();
        assertThat(stub.startSession(request).getSessionId()).isEqualTo(first);
        final String other = stub.startSession(request.toBuilder().setRequestId("req-2").build()).getSessionId();
        assertThat(other).isNotEqualTo(first);
        // A request id is its user's alone.
        final var someoneElse = pipecat.blocking(pipecat.userToken(PipecatHarness.TENANT, "retrier-2"));
        final String theirs = someoneElse.startSession(request).getSessionId();
        assertThat(theirs).isNotEqualTo(first);
        assertThatThrownBy(() -> stub.startSession(request.toBuilder().setRequestId("x".repeat(129)).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
        for (String id : List.of(first, other)) {
            stub.stopSession(StopSessionRequest.newBuilder().setSessionId(id).build());
        }
        someoneElse.stopSession(StopSessionRequest.newBuilder().setSessionId(theirs).build());
    }

    private static void assertInvalidPageToken(Runnable call) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).startsWith("page_token");
        });
    }

    @Test
    void restRoutesAnswerWithTheEnvelope() throws Exception {
        final WebClient rest = pipecat.rest(pipecat.token);
        final AggregatedHttpResponse started = rest.execute(post("/session/start", "{\"voice\":false}"))
                                                   .aggregate().join();
        assertThat(started.status().code()).isEqualTo(200);
        assertThat(started.contentUtf8()).contains("\"ok\":true").contains("SESSION_STATE_CREATED")
                                         .contains("\"tenant\":\"acme\"").contains("\"user_id\":\"ada\"");
        final String id = started.contentUtf8().replaceAll(".*\"session_id\":\"([^\"]+)\".*", "$1");
        final AggregatedHttpResponse paused =
                rest.execute(post("/session/pause", "{\"session_id\":\"" + id + "\"}")).aggregate().join();
        assertThat(paused.status().code()).isEqualTo(409);
        assertThat(paused.contentUtf8()).contains("\"code\":\"CONFLICT\"");
        final AggregatedHttpResponse got = rest.get("/session/" + id).aggregate().join();
        assertThat(got.status().code()).isEqualTo(200);
        assertThat(got.contentUtf8()).contains(id);
        assertThat(rest.get("/session/missing").aggregate().join().status().code()).isEqualTo(404);
        // Without a token, nothing but /healthz answers.
        final WebClient anonymous = WebClient.of("http://127.0.0.1:" + pipecat.port());
        assertThat(anonymous.get("/session/" + id).aggregate().join().status().code()).isEqualTo(401);
        assertThat(anonymous.get("/healthz").aggregate().join().status().code()).isEqualTo(200);
    }

    @Test
    void refusesSessionsBeyondTheLiveLimit() throws Exception {
        try (PipecatHarness small = new PipecatHarness(Map.of("SONIA_PIPECAT_MAX_LIVE_SESSIONS", "2"))) {
            final var stub = small.blocking();
            final String first = stub.startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
            stub.startSession(StartSessionRequest.getDefaultInstance());
            assertLiveLimit(stub, "live_sessions");
            stub.stopSession(StopSessionRequest.newBuilder().setSessionId(first).build());
            assertThat(stub.startSession(StartSessionRequest.getDefaultInstance()).getState())
                    .isEqualTo(SessionState.SESSION_STATE_CREATED);
        }
    }

    @Test
    void oneUserCannotTakeTheServicesSessionsFromTheOthers() throws Exception {
        try (PipecatHarness small = new PipecatHarness(Map.of("SONIA_PIPECAT_MAX_LIVE_SESSIONS_PER_USER", "2"))) {
            final var mallory = small.blocking(small.userToken(PipecatHarness.TENANT, "mallory"));
            final String first = mallory.startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
            mallory.startSession(StartSessionRequest.getDefaultInstance());
            assertLiveLimit(mallory, "live_sessions_per_user");
            // Over REST too: 429 with the envelope.
            final AggregatedHttpResponse refused = small.rest(small.userToken(PipecatHarness.TENANT, "mallory"))
                                                        .execute(post("/session/start", "{}")).aggregate().join();
            assertThat(refused.status().code()).isEqualTo(429);
            assertThat(refused.contentUtf8()).contains("live_sessions_per_user");
            // Everybody else still starts sessions.
            assertThat(small.blocking(small.userToken(PipecatHarness.TENANT, "alice"))
                            .startSession(StartSessionRequest.getDefaultInstance()).getState())
                    .isEqualTo(SessionState.SESSION_STATE_CREATED);
            mallory.stopSession(StopSessionRequest.newBuilder().setSessionId(first).build());
            assertThat(mallory.startSession(StartSessionRequest.getDefaultInstance()).getState())
                    .isEqualTo(SessionState.SESSION_STATE_CREATED);
        }
    }

    // The next start is refused RESOURCE_EXHAUSTED / RATE_LIMITED, naming the limit it met.
    private static void assertLiveLimit(PipecatServiceGrpc.PipecatServiceBlockingStub stub, String limit) {
        assertThatThrownBy(() -> stub.startSession(StartSessionRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                    assertThat(errorInfo(e).getReason()).isEqualTo("RATE_LIMITED");
                    assertThat(errorInfo(e).getMetadataMap()).containsEntry("limit", limit);
                });
    }

    @Test
    void closesIdleSessionsButPingsKeepThemAlive() throws Exception {
        try (PipecatHarness ttl = new PipecatHarness(Map.of("SONIA_PIPECAT_SESSION_TTL_SECONDS", "2"))) {
            final var stub = ttl.blocking();
            final String idle = stub.startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
            final String pinged = stub.startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
            final WsClient client = ttl.ws(pinged, 0);
            final long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (System.nanoTime() < until) {
                client.send("{\"type\":\"EVENT_TYPE_STATUS\"}");
                Thread.sleep(300);
            }
            assertThat(stub.getSession(get(idle)).getState()).isEqualTo(SessionState.SESSION_STATE_CLOSED);
            assertThat(stub.getSession(get(pinged)).getState()).isEqualTo(SessionState.SESSION_STATE_ACTIVE);
            await().atMost(Duration.ofSeconds(10))
                   .until(() -> stub.getSession(get(pinged)).getState() == SessionState.SESSION_STATE_CLOSED);
            assertThat(client.awaitClose()).isEqualTo(1000);
        }
    }

    static HttpRequest post(String path, String json) {
        return HttpRequest.of(HttpMethod.POST, path, MediaType.JSON_UTF_8, json);
    }

    private static GetSessionRequest get(String id) {
        return GetSessionRequest.newBuilder().setSessionId(id).build();
    }

    private static void assertConflict(Runnable call) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
            assertThat(errorInfo(e).getReason()).isEqualTo("CONFLICT");
            assertThat(errorInfo(e).getMetadataMap()).containsKeys("session_id", "state");
        });
    }

    /**
     * UpdateSession (title, metadata, pause and resume through the state machine) and DeleteSession (with history
     * and events; attached connections closed with 4004), by gRPC and by the seed's REST routes; a closed session
     * is FAILED_PRECONDITION (CONFLICT), a deleted one NOT_FOUND, another user's NOT_FOUND.
     */
    @Nested
    class UpdateAndDelete {
        @Test
        void updatesTitleMetadataAndStateAsAnEventOfTheSession() throws Exception {
            final PipecatServiceBlockingStub stub = pipecat.blocking();
            final String id = stub.startSession(StartSessionRequest.newBuilder().putMetadata("lang", "en")
                                                                   .putMetadata("topic", "x").build()).getSessionId();
            final WsClient client = pipecat.ws(id, 0);
            client.await(e -> e.getText().equals("state=ACTIVE"));

            // Without a mask: the fields that are set.
            final Session titled = stub.updateSession(update(Session.newBuilder().setSessionId(id).setTitle("Plans")));
            assertThat(titled.getTitle()).isEqualTo("Plans");
            assertThat(titled.getMetadataMap()).containsEntry("lang", "en");
            client.await(e -> e.getText().equals("updated title"));

            // With a mask: one metadata key set, another removed; the title (not named) stays.
            final Session masked = stub.updateSession(update(
                    Session.newBuilder().setSessionId(id).setTitle("ignored").putMetadata("lang", "fr"),
                    "metadata.lang", "metadata.topic"));
            assertThat(masked.getTitle()).isEqualTo("Plans");
            assertThat(masked.getMetadataMap()).containsExactlyEntriesOf(java.util.Map.of("lang", "fr"));

            // State through the state machine: pause, pausing again is nothing new, resume.
            final Session paused = stub.updateSession(update(
                    Session.newBuilder().setSessionId(id).setState(SessionState.SESSION_STATE_PAUSED), "state"));
            assertThat(paused.getState()).isEqualTo(SessionState.SESSION_STATE_PAUSED);
            client.await(e -> e.getText().equals("state=PAUSED"));
            assertThat(stub.updateSession(update(Session.newBuilder().setSessionId(id)
                                                         .setState(SessionState.SESSION_STATE_PAUSED))).getState())
                    .isEqualTo(SessionState.SESSION_STATE_PAUSED);
            assertThat(stub.updateSession(update(Session.newBuilder().setSessionId(id)
                                                         .setState(SessionState.SESSION_STATE_ACTIVE))).getState())
                    .isEqualTo(SessionState.SESSION_STATE_ACTIVE);

            assertCode(Status.Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", () -> stub.updateSession(update(
                    Session.newBuilder().setSessionId(id), "voice")));
            assertCode(Status.Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", () -> stub.updateSession(update(
                    Session.newBuilder().setSessionId(id).setState(SessionState.SESSION_STATE_CLOSED))));
            assertCode(Status.Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", () -> stub.updateSession(update(
                    Session.newBuilder().setSessionId(id).setTitle("x".repeat(201)))));

            // A closed session: its title can change, its state cannot.
            stub.stopSession(StopSessionRequest.newBuilder().setSessionId(id).build());
            assertThat(client.awaitClose()).isEqualTo(1000);
            assertCode(Status.Code.FAILED_PRECONDITION, "CONFLICT", () -> stub.updateSession(update(
                    Session.newBuilder().setSessionId(id).setState(SessionState.SESSION_STATE_PAUSED))));
            assertThat(stub.updateSession(update(Session.newBuilder().setSessionId(id).setTitle("Done"))).getTitle())
                    .isEqualTo("Done");
            assertThat(stub.getSession(GetSessionRequest.newBuilder().setSessionId(id).build()).getTitle())
                    .isEqualTo("Done");
        }

        @Test
        void aClosedSessionIsConflictAndADeletedOneNotFound() throws Exception {
            final PipecatServiceBlockingStub stub = pipecat.blocking();
            final String id = stub.startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
            stub.stopSession(StopSessionRequest.newBuilder().setSessionId(id).build());
            // Attaching to a closed session: ERROR CONFLICT, then 4001.
            final WsClient closed = pipecat.ws(id, 0);
            assertThat(closed.await(e -> e.getType() == EventType.EVENT_TYPE_ERROR).getErrorCode()).isEqualTo("CONFLICT");
            assertThat(closed.awaitClose()).isEqualTo(4001);

            stub.deleteSession(DeleteSessionRequest.newBuilder().setSessionId(id).build());
            final WsClient deleted = pipecat.ws(id, 0);
            assertThat(deleted.await(e -> e.getType() == EventType.EVENT_TYPE_ERROR).getErrorCode())
                    .isEqualTo("NOT_FOUND");
            assertThat(deleted.awaitClose()).isEqualTo(4001);
            assertCode(Status.Code.NOT_FOUND, "NOT_FOUND",
                       () -> stub.getSession(GetSessionRequest.newBuilder().setSessionId(id).build()));
            assertCode(Status.Code.NOT_FOUND, "NOT_FOUND",
                       () -> stub.deleteSession(DeleteSessionRequest.newBuilder().setSessionId(id).build()));
        }

        @Test
        void deletingALiveSessionClosesItsConnectionsWith4004() throws Exception {
            final PipecatServiceBlockingStub stub = pipecat.blocking();
            final String id = stub.startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
            final WsClient client = pipecat.ws(id, 0);
            client.sendEvent(SessionEvent.newBuilder().setType(EventType.EVENT_TYPE_MESSAGE).setText("hello").build());
            client.await(e -> e.getRole().equals("assistant"));
            stub.deleteSession(DeleteSessionRequest.newBuilder().setSessionId(id).build());
            final SessionEvent error = client.await(e -> e.getType() == EventType.EVENT_TYPE_ERROR);
            assertThat(error.getErrorCode()).isEqualTo("NOT_FOUND");
            assertThat(error.getText()).isEqualTo("session deleted");
            assertThat(client.awaitClose()).isEqualTo(4004);
            assertCode(Status.Code.NOT_FOUND, "NOT_FOUND",
                       () -> stub.getSession(GetSessionRequest.newBuilder().setSessionId(id).build()));
        }

        @Test
        void anotherUsersSessionIsNotFoundButTheTenantAdminReachesIt() {
            final String id = pipecat.blocking().startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
            for (String outsider : new String[] { pipecat.userToken(PipecatHarness.TENANT, "bob"),
                                                  pipecat.userToken("globex", PipecatHarness.USER),
                                                  pipecat.adminToken("globex") }) {
                final PipecatServiceBlockingStub stub = pipecat.blocking(outsider);
                assertCode(Status.Code.NOT_FOUND, "NOT_FOUND", () -> stub.updateSession(update(
                        Session.newBuilder().setSessionId(id).setTitle("mine"))));
                assertCode(Status.Code.NOT_FOUND, "NOT_FOUND",
                           () -> stub.deleteSession(DeleteSessionRequest.newBuilder().setSessionId(id).build()));
            }
            final PipecatServiceBlockingStub admin = pipecat.blocking(pipecat.adminToken(PipecatHarness.TENANT));
            assertThat(admin.updateSession(update(Session.newBuilder().setSessionId(id).setTitle("by admin")))
                            .getTitle()).isEqualTo("by admin");
            admin.deleteSession(DeleteSessionRequest.newBuilder().setSessionId(id).build());
            assertCode(Status.Code.NOT_FOUND, "NOT_FOUND", () -> pipecat.blocking().getSession(
                    GetSessionRequest.newBuilder().setSessionId(id).build()));
        }

        @Test
        void theSeedsPutAndDeleteRoutesAnswerWithTheEnvelope() {
            final WebClient rest = pipecat.rest(pipecat.token);
            final String id = pipecat.blocking().startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
            final AggregatedHttpResponse put = rest.execute(json(HttpMethod.PUT, "/session/" + id,
                                                                 "{\"title\":\"Seed\",\"metadata\":{\"k\":\"v\"}}"))
                                                   .aggregate().join();
            assertThat(put.status().code()).isEqualTo(200);
            assertThat(put.contentUtf8()).contains("\"ok\":true").contains("\"title\":\"Seed\"")
                                         .contains("\"k\":\"v\"");
            final AggregatedHttpResponse patch = rest.execute(json(HttpMethod.PATCH, "/session/" + id,
                                                                   "{\"state\":\"SESSION_STATE_PAUSED\"}"))
                                                     .aggregate().join();
            // CREATED cannot pause.
            assertThat(patch.status().code()).isEqualTo(409);
            assertThat(patch.contentUtf8()).contains("\"code\":\"CONFLICT\"");
            final AggregatedHttpResponse delete = rest.delete("/session/" + id).aggregate().join();
            assertThat(delete.status().code()).isEqualTo(200);
            assertThat(rest.delete("/session/" + id).aggregate().join().status().code()).isEqualTo(404);
            assertThat(rest.get("/session/" + id).aggregate().join().status().code()).isEqualTo(404);
        }

        private static HttpRequest json(HttpMethod method, String path, String body) {
            return HttpRequest.of(method, path, MediaType.JSON_UTF_8, body);
        }

        private static UpdateSessionRequest update(Session.Builder session, String... paths) {
            return UpdateSessionRequest.newBuilder().setSession(session)
                                       .setUpdateMask(FieldMask.newBuilder().addAllPaths(java.util.List.of(paths)))
                                       .build();
        }

        private static void assertCode(Status.Code code, String reason, Runnable call) {
            assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(code);
                assertThat(errorInfo(e).getReason()).isEqualTo(reason);
            });
        }
    }
}

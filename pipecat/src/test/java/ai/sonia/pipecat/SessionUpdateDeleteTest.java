package ai.sonia.pipecat;

import static ai.sonia.runtime.testing.StatusDetails.errorInfo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import ai.sonia.pipecat.v1.PipecatServiceGrpc.PipecatServiceBlockingStub;
import ai.sonia.pipecat.v1.Session;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.pipecat.v1.SessionState;
import ai.sonia.pipecat.v1.StartSessionRequest;
import ai.sonia.pipecat.v1.StopSessionRequest;
import ai.sonia.pipecat.v1.UpdateSessionRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * UpdateSession (title, metadata, pause and resume through the state machine) and DeleteSession (with history
 * and events; attached connections closed with 4004), by gRPC and by the seed's REST routes; a closed session
 * is FAILED_PRECONDITION (CONFLICT), a deleted one NOT_FOUND, another user's NOT_FOUND.
 */
class SessionUpdateDeleteTest {

    @RegisterExtension
    static final PipecatHarness pipecat = new PipecatHarness();

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

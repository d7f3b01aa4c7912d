package ai.sonia.pipecat;

import static ai.sonia.runtime.testing.StatusDetails.errorInfo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.MediaType;

import ai.sonia.pipecat.v1.DeleteSessionRequest;
import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.GetSessionRequest;
import ai.sonia.pipecat.v1.PipecatServiceGrpc.PipecatServiceBlockingStub;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.pipecat.v1.SessionState;
import ai.sonia.pipecat.v1.StartSessionRequest;
import ai.sonia.pipecat.v1.StopSessionRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * What one self-registered user can write to the disk every other user's sessions live on is bounded: the sessions
 * they keep (closed ones too, until deleted) and the messages of one session's history. Past either, that user's
 * start or message is RATE_LIMITED; the connection, the session and everybody else go on.
 */
class StorageQuotaTest {

    @Test
    void aUserKeepsAtMostItsLimitOfSessionsAndDeletingMakesRoom() {
        try (PipecatHarness small = new PipecatHarness(Map.of("SONIA_PIPECAT_MAX_SESSIONS_PER_USER", "2"))) {
            final String token = small.userToken(PipecatHarness.TENANT, "mallory");
            final PipecatServiceBlockingStub mallory = small.blocking(token);
            final String first = mallory.startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
            final String second = mallory.startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
            mallory.stopSession(StopSessionRequest.newBuilder().setSessionId(first).build());
            mallory.stopSession(StopSessionRequest.newBuilder().setSessionId(second).build());
            // Closed sessions are kept (their history stays readable), so they still count.
            assertThatThrownBy(() -> mallory.startSession(StartSessionRequest.getDefaultInstance()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                        assertThat(errorInfo(e).getMetadataMap()).containsEntry("limit", "sessions_per_user");
                        assertThat(e.getStatus().getDescription()).contains("DeleteSession");
                    });
            final AggregatedHttpResponse refused = small.rest(token).execute(
                    HttpRequest.of(HttpMethod.POST, "/session/start", MediaType.JSON, "{}")).aggregate().join();
            assertThat(refused.status().code()).isEqualTo(429);
            assertThat(refused.contentUtf8()).contains("sessions_per_user");
            // Everybody else still starts sessions; deleting one of mallory's makes room for one more.
            assertThat(small.blocking(small.userToken(PipecatHarness.TENANT, "alice"))
                            .startSession(StartSessionRequest.getDefaultInstance()).getState())
                    .isEqualTo(SessionState.SESSION_STATE_CREATED);
            mallory.deleteSession(DeleteSessionRequest.newBuilder().setSessionId(first).build());
            assertThat(mallory.startSession(StartSessionRequest.getDefaultInstance()).getState())
                    .isEqualTo(SessionState.SESSION_STATE_CREATED);
        }
    }

    @Test
    void aFullHistoryRefusesTheMessageButNotTheConnection() throws Exception {
        try (PipecatHarness small = new PipecatHarness(Map.of("SONIA_PIPECAT_MAX_HISTORY_PER_SESSION", "4"))) {
            final String id = small.blocking().startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
            final WsClient client = small.ws(id, 0);
            for (String text : new String[] {"one", "two"}) {
                client.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"text\":\"" + text + "\"}");
                client.await(e -> e.getType() == EventType.EVENT_TYPE_MESSAGE && e.getText().equals("echo: " + text));
            }
            // Each turn is the user's message and the assistant's reply.
            await().atMost(Duration.ofSeconds(10)).until(() -> history(small, id) == 4);

            client.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"message_id\":\"m-3\",\"text\":\"three\"}");
            final SessionEvent refused = client.await(e -> "m-3".equals(e.getMessageId())
                                                           && e.getType() == EventType.EVENT_TYPE_ERROR);
            assertThat(refused.getErrorCode()).isEqualTo("RATE_LIMITED");
            assertThat(refused.getText()).contains("history_per_session").contains("start a new session");
            // The connection stays: a STATUS is answered, and nothing of the refused message was stored.
            client.send("{\"type\":\"EVENT_TYPE_STATUS\",\"message_id\":\"s-1\"}");
            assertThat(client.await(e -> "s-1".equals(e.getMessageId())).getType()).isEqualTo(EventType.EVENT_TYPE_STATUS);
            assertThat(history(small, id)).isEqualTo(4);
            client.close();
        }
    }

    private static int history(PipecatHarness harness, String id) {
        return harness.blocking().getSession(GetSessionRequest.newBuilder().setSessionId(id).build()).getHistoryCount();
    }
}

package ai.sonia.pipecat;

import static ai.sonia.runtime.testing.StatusDetails.errorInfo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.common.v1.Role;
import ai.sonia.pipecat.v1.Attach;
import ai.sonia.pipecat.v1.ConverseRequest;
import ai.sonia.pipecat.v1.ConverseResponse;
import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.pipecat.v1.StartSessionRequest;
import ai.sonia.runtime.auth.AccessTokens;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.auth.RevocationList;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;

/**
 * A conversation that is open when its credential is revoked ends: the WebSocket with 1008
 * {@code credential revoked}, the {@code Converse} stream with UNAUTHENTICATED. The revocations are written
 * where the gateway writes them (the shared {@link RevocationList}) for a user who registered themselves
 * and holds an API key: disabling the user, or deleting the key, ends what its tokens opened.
 */
class RevokedStreamTest {

    private static final long HOUR_MS = 3_600_000L;

    @RegisterExtension
    static final PipecatHarness pipecat = new PipecatHarness();

    @Test
    void aSocketClosesWhenItsApiKeyIsDeleted() throws Exception {
        final String user = "self-" + UUID.randomUUID();
        final String keyId = "k" + UUID.randomUUID().toString().replace("-", "");
        final String keyToken = keyToken(user, keyId);
        final String id = pipecat.blocking(keyToken).startSession(StartSessionRequest.getDefaultInstance())
                                 .getSessionId();
        final WsClient ws = pipecat.ws(keyToken, id, 0);
        ws.await(e -> e.getSequence() > 0);
        // Another key of the same user is not affected.
        final String otherKeyToken = keyToken(user, keyId + "x");
        final String otherId = pipecat.blocking(otherKeyToken).startSession(StartSessionRequest.getDefaultInstance())
                                      .getSessionId();
        final WsClient other = pipecat.ws(otherKeyToken, otherId, 0);
        other.await(e -> e.getSequence() > 0);

        RevocationList.of(pipecat.config).revoke(RevocationList.KEY_PREFIX + keyId,
                                                 System.currentTimeMillis() + HOUR_MS);

        assertThat(ws.closeCode.get(10, TimeUnit.SECONDS)).isEqualTo(1008);
        assertThat(ws.closeReason).isEqualTo("credential revoked");
        assertThat(other.closeCode).isNotDone();
        other.close();
    }

    @Test
    void aConverseStreamEndsWhenItsUserIsDisabled() throws Exception {
        final String user = "self-" + UUID.randomUUID();
        final String token = pipecat.userToken(PipecatHarness.TENANT, user);
        final String id = pipecat.blocking(token).startSession(StartSessionRequest.getDefaultInstance())
                                 .getSessionId();
        final CompletableFuture<Throwable> ended = new CompletableFuture<>();
        final CompletableFuture<Void> echoed = new CompletableFuture<>();
        final StreamObserver<ConverseRequest> requests = pipecat.async(token).converse(new StreamObserver<>() {
            @Override
            public void onNext(ConverseResponse value) {
                if (value.getEvent().getText().equals("echo: hi")) {
                    echoed.complete(null);
                }
            }

            @Override
            public void onError(Throwable t) {
                ended.complete(t);
            }

            @Override
            public void onCompleted() {
                ended.complete(null);
            }
        });
        requests.onNext(ConverseRequest.newBuilder().setAttach(Attach.newBuilder().setSessionId(id)).build());
        requests.onNext(ConverseRequest.newBuilder().setEvent(
                SessionEvent.newBuilder().setType(EventType.EVENT_TYPE_MESSAGE).setMessageId("m-1").setText("hi"))
                                       .build());
        echoed.get(20, TimeUnit.SECONDS);

        final long now = System.currentTimeMillis();
        RevocationList.of(pipecat.config).changeUser(PipecatHarness.TENANT, user, null, now, now + HOUR_MS);

        final Throwable error = ended.get(10, TimeUnit.SECONDS);
        assertThat(error).isInstanceOf(StatusRuntimeException.class);
        assertThat(Status.fromThrowable(error).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(errorInfo((StatusRuntimeException) error).getReason()).isEqualTo("UNAUTHENTICATED");
        assertThat(errorInfo((StatusRuntimeException) error).getMetadataMap())
                .containsEntry("cause", "CREDENTIAL_REVOKED");
        // The session itself is still there for its owner's admin; only the revoked credential lost it.
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(
                pipecat.blocking(pipecat.adminToken(PipecatHarness.TENANT)).getSession(
                        ai.sonia.pipecat.v1.GetSessionRequest.newBuilder().setSessionId(id).build())
                       .getSessionId()).isEqualTo(id));
    }

    /** An access token exchanged for API key {@code keyId} of {@code user}, as the gateway issues it. */
    private static String keyToken(String user, String keyId) {
        return AccessTokens.of(pipecat.config).issue(
                new Principal(Principal.Kind.API_KEY, PipecatHarness.TENANT, keyId, Role.ROLE_USER, ""), user,
                RevocationList.KEY_PREFIX + keyId + ":1", Duration.ofHours(1));
    }
}

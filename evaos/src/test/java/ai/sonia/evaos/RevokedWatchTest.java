package ai.sonia.evaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.google.rpc.ErrorInfo;

import ai.sonia.common.v1.Role;
import ai.sonia.evaos.v1.EvaOsServiceGrpc;
import ai.sonia.evaos.v1.WatchApprovalsResponse;
import ai.sonia.runtime.auth.AccessTokens;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.auth.RevocationList;
import ai.sonia.runtime.testing.SoniaServiceExtension;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;

/**
 * An open {@code WatchApprovals} stream ends with UNAUTHENTICATED once its credential is revoked: a
 * self-registered user disabled, or the API key its token was exchanged for deleted. The revocations are
 * written where the gateway writes them (the shared {@link RevocationList}); other watchers go on.
 */
class RevokedWatchTest {

    private static final long HOUR_MS = 3_600_000L;

    @RegisterExtension
    static final SoniaServiceExtension evaos = SoniaServiceExtension.of(new EvaOsModule());

    @Test
    void aWatchEndsWhenItsUserIsDisabled() {
        final String user = "self-" + UUID.randomUUID();
        final String token = evaos.token("acme", user, Role.ROLE_USER);
        final Watch revoked = new Watch(token);
        final Watch bystander = new Watch(evaos.token("acme", "other-" + user, Role.ROLE_USER));
        try {
            final long now = System.currentTimeMillis();
            RevocationList.of(evaos.stackConfig()).changeUser("acme", user, null, now, now + HOUR_MS);
            revoked.awaitRevoked();
            assertThat(bystander.failure.get()).isNull();
        } finally {
            revoked.cancel();
            bystander.cancel();
        }
    }

    @Test
    void aWatchEndsWhenItsApiKeyIsDeleted() {
        final String user = "self-" + UUID.randomUUID();
        final String keyId = "k" + UUID.randomUUID().toString().replace("-", "");
        final Watch revoked = new Watch(keyToken(user, keyId));
        final Watch otherKey = new Watch(keyToken(user, keyId + "x"));
        try {
            RevocationList.of(evaos.stackConfig()).revoke(RevocationList.KEY_PREFIX + keyId,
                                                   System.currentTimeMillis() + HOUR_MS);
            revoked.awaitRevoked();
            assertThat(otherKey.failure.get()).isNull();
        } finally {
            revoked.cancel();
            otherKey.cancel();
        }
    }

    private static String keyToken(String user, String keyId) {
        return AccessTokens.of(evaos.stackConfig()).issue(
                new Principal(Principal.Kind.API_KEY, "acme", keyId, Role.ROLE_USER, ""), user,
                RevocationList.KEY_PREFIX + keyId + ":1", Duration.ofHours(1));
    }

    /** A watch open as one token. */
    private static final class Watch {
        final List<WatchApprovalsResponse> seen = new CopyOnWriteArrayList<>();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Context.CancellableContext ctx;

        /** Opens a watch as {@code token}, and waits until it is open (it sees the token's pending write). */
        Watch(String token) {
            evaos.stub(EvaOsServiceGrpc::newBlockingStub, token).authorizeAction(ApprovalTenancyTest.write("w-" + UUID.randomUUID(), "s").build());
            ctx = ApprovalOwnershipTest.watch(evaos, token, seen, failure);
            await().atMost(Duration.ofSeconds(10)).until(() -> !seen.isEmpty());
        }

        void awaitRevoked() {
            await().atMost(Duration.ofSeconds(10)).until(() -> failure.get() != null);
            final Throwable error = failure.get();
            assertThat(Status.fromThrowable(error).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
            final ErrorInfo info = StatusProto.fromThrowable(error).getDetailsList().stream()
                                              .filter(d -> d.is(ErrorInfo.class)).findFirst()
                                              .map(d -> {
                                                  try {
                                                      return d.unpack(ErrorInfo.class);
                                                  } catch (Exception e) {
                                                      throw new IllegalStateException(e);
                                                  }
                                              }).orElseThrow();
            assertThat(info.getReason()).isEqualTo("UNAUTHENTICATED");
            assertThat(info.getMetadataMap()).containsEntry("cause", "CREDENTIAL_REVOKED");
        }

        void cancel() {
            ctx.cancel(null);
        }
    }
}

package ai.sonia.evaos;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.common.v1.Role;
import ai.sonia.evaos.v1.DisableTrainingRequest;
import ai.sonia.evaos.v1.EnableTrainingRequest;
import ai.sonia.evaos.v1.EvaOsServiceGrpc;
import ai.sonia.evaos.v1.EvaOsServiceGrpc.EvaOsServiceBlockingStub;
import ai.sonia.evaos.v1.GetTrainingStatusRequest;
import ai.sonia.runtime.testing.RedisServerExtension;
import ai.sonia.runtime.testing.SoniaServiceExtension;

/**
 * Two evaos replicas on one home with {@code shared.engine: redis}: training mode enabled through one is in
 * force at the other, and lifted through the other it is off at the first (the locks live in Redis, not in
 * either server).
 */
class TrainingAcrossReplicasTest {

    @RegisterExtension
    static final RedisServerExtension redis = new RedisServerExtension();

    private static SoniaServiceExtension replicaA;
    private static SoniaServiceExtension replicaB;

    @BeforeAll
    static void replicas() {
        final String config = "{\"shared\": {\"engine\": \"redis\", \"redis\": {\"url\": \"" + redis.url() + "\"}}}";
        replicaA = SoniaServiceExtension.of(new EvaOsModule()).stackConfig(config).start();
        replicaB = SoniaServiceExtension.of(new EvaOsModule()).home(replicaA.home()).start();
    }

    @AfterAll
    static void stop() {
        replicaB.close();
        replicaA.close();
    }

    private static EvaOsServiceBlockingStub admin(SoniaServiceExtension replica) {
        return replica.stub(EvaOsServiceGrpc::newBlockingStub, replica.token("acme", "root", Role.ROLE_ADMIN));
    }

    @Test
    void aLockSetThroughOneReplicaHoldsAtTheOther() {
        admin(replicaA).enableTraining(EnableTrainingRequest.newBuilder().setReason("nightly fine-tune").build());
        // In Redis, not in the SQLite file the two replicas' common home would also share.
        assertThat(redis.client().exists("sonia:evaos:training:lock:acme")).isTrue();
        assertThat(admin(replicaB).getTrainingStatus(GetTrainingStatusRequest.getDefaultInstance()))
                .satisfies(status -> {
                    assertThat(status.getEnabled()).isTrue();
                    assertThat(status.getReason()).isEqualTo("nightly fine-tune");
                    assertThat(status.getEnabledBy()).isEqualTo("acme/root");
                });
        assertThat(admin(replicaB).disableTraining(DisableTrainingRequest.getDefaultInstance()).getEnabled()).isFalse();
        assertThat(admin(replicaA).getTrainingStatus(GetTrainingStatusRequest.getDefaultInstance()).getEnabled())
                .isFalse();
    }
}

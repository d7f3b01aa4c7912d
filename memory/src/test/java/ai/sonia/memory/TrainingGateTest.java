package ai.sonia.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.common.v1.Role;
import ai.sonia.common.v1.Scope;
import ai.sonia.evaos.EvaOsModule;
import ai.sonia.evaos.v1.DisableTrainingRequest;
import ai.sonia.evaos.v1.EnableTrainingRequest;
import ai.sonia.evaos.v1.EvaOsServiceGrpc;
import ai.sonia.evaos.v1.EvaOsServiceGrpc.EvaOsServiceBlockingStub;
import ai.sonia.memory.client.EvaOsTrainingGate;
import ai.sonia.memory.domain.TrainingGate;
import ai.sonia.memory.v1.ForgetMemoryRequest;
import ai.sonia.memory.v1.InvalidateMemoryRequest;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryServiceGrpc;
import ai.sonia.memory.v1.MemoryServiceGrpc.MemoryServiceBlockingStub;
import ai.sonia.memory.v1.SearchMemoriesRequest;
import ai.sonia.memory.v1.StoreMemoryRequest;
import ai.sonia.runtime.Errors;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.client.SoniaChannels;
import ai.sonia.runtime.errors.DomainException;
import ai.sonia.runtime.testing.SoniaServiceExtension;
import io.grpc.ManagedChannel;
import io.grpc.Status;

/**
 * Memory with training enforcement on (its default), beside a real EVA-OS on loopback: while EVA-OS has a
 * tenant in training mode, that tenant's stores, invalidations and forgets are refused with TRAINING_LOCKED
 * (searches still answer, other tenants still write), and accepted again once it is disabled; the gate of a
 * memory whose EVA-OS cannot answer refuses changes with UNAVAILABLE naming evaos.
 */
class TrainingGateTest {

    private static SoniaServiceExtension evaos;
    private static SoniaServiceExtension memory;

    @BeforeAll
    static void start() {
        evaos = SoniaServiceExtension.of(new EvaOsModule()).start();
        final Map<String, String> env = Map.of("SONIA_EVAOS_TARGET", "127.0.0.1:" + evaos.port(),
                                               "SONIA_MEMORY_TRAINING_CACHE_MS", "0");
        memory = SoniaServiceExtension.of(new MemoryModule()).home(evaos.home())
                                      .factory(c -> new MemoryModule().newServer(c.withEnv(env))).start();
    }

    @AfterAll
    static void stop() {
        memory.close();
        evaos.close();
    }

    private static MemoryServiceBlockingStub user(String tenant) {
        return memory.stub(MemoryServiceGrpc::newBlockingStub, memory.token(tenant, "alice", Role.ROLE_USER));
    }

    private static StoreMemoryRequest note(String text) {
        return StoreMemoryRequest.newBuilder().setMemory(Memory.newBuilder().setText(text)
                                                               .setScope(Scope.getDefaultInstance())).build();
    }

    @Test
    void aLockedTenantsMemoriesDoNotChangeUntilTrainingIsDisabled() {
        final EvaOsServiceBlockingStub admin = evaos.stub(EvaOsServiceGrpc::newBlockingStub, evaos.adminToken("acme"));
        final MemoryServiceBlockingStub alice = user("acme");
        final Memory kept = alice.storeMemory(note("the cat is called Tom")).getMemory();

        admin.enableTraining(EnableTrainingRequest.newBuilder().setReason("fine-tune on acme's notes").build());
        for (Runnable change : new Runnable[] {
                () -> alice.storeMemory(note("the dog is called Rex")),
                () -> alice.invalidateMemory(InvalidateMemoryRequest.newBuilder().setName(kept.getName()).build()),
                () -> alice.forgetMemory(ForgetMemoryRequest.newBuilder().setName(kept.getName()).build())}) {
            assertThatThrownBy(change::run).satisfies(e -> {
                assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                assertThat(Errors.envelopeCode(e)).isEqualTo("TRAINING_LOCKED");
                assertThat(Errors.metadata(e, "tenant")).isEqualTo("acme");
            });
        }
        // Reading goes on, and another tenant is not locked.
        assertThat(alice.searchMemories(SearchMemoriesRequest.newBuilder().setQuery("cat").build()).getHitsCount())
                .isPositive();
        assertThat(user("globex").storeMemory(note("globex note")).getCreated()).isTrue();

        admin.disableTraining(DisableTrainingRequest.getDefaultInstance());
        assertThat(alice.storeMemory(note("the dog is called Rex")).getCreated()).isTrue();
        assertThat(alice.forgetMemory(ForgetMemoryRequest.newBuilder().setName(kept.getName()).build()).getName())
                .isEqualTo(kept.getName());
    }

    @Test
    void withoutAnAnswerFromEvaOsAChangeIsRefusedAsUnavailable() {
        final ManagedChannel nowhere = SoniaChannels.forTarget("127.0.0.1:1", Stack.EVAOS);
        try {
            final TrainingGate gate = new EvaOsTrainingGate(EvaOsServiceGrpc.newBlockingStub(nowhere),
                                                            Duration.ofSeconds(1), Clock.systemUTC());
            assertThatThrownBy(() -> gate.checkWritable("acme")).isInstanceOfSatisfying(DomainException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.ERROR_CODE_UNAVAILABLE);
                assertThat(e.metadata()).containsEntry("dependency", "evaos")
                                        .containsEntry("setting", "services.memory.training.enforce");
            });
        } finally {
            SoniaChannels.close(nowhere);
        }
    }
}

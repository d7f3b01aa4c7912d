package ai.sonia.runtime.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import ai.sonia.memory.v1.GetMemoryRequest;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryServiceGrpc;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.testing.TestHomes;
import io.grpc.stub.StreamObserver;

/**
 * A target that lists replicas ({@code services.memory.target: "host:port,host:port"}): the channel spreads calls
 * round-robin over both live replicas, and with one of them stopped the other serves every call.
 */
class ReplicaTargetsTest {

    /** Answers every GetMemory with the name of the replica that served it. */
    static final class Named extends MemoryServiceGrpc.MemoryServiceImplBase {
        private final String replica;

        Named(String replica) {
            this.replica = replica;
        }

        @Override
        public void getMemory(GetMemoryRequest request, StreamObserver<Memory> out) {
            out.onNext(Memory.newBuilder().setName(replica).build());
            out.onCompleted();
        }
    }

    @Test
    void aTargetIsOneAddressOrAListOfReplicas() {
        final StackConfig config = TestHomes.config("targets-parse", "memory");
        assertThat(config.targets(Stack.MEMORY)).containsExactly(config.target(Stack.MEMORY));
        assertThat(config.withEnv(Map.of("SONIA_MEMORY_TARGET", " 10.0.0.5:7020 , 10.0.0.6:7120,"))
                         .targets(Stack.MEMORY)).containsExactly("10.0.0.5:7020", "10.0.0.6:7120");
        assertThat(ReplicaAddresses.channelTarget("a:1, b:2")).isEqualTo("sonia-replicas:///a:1,b:2");
    }

    @Test
    void callsGoRoundRobinOverTheReplicasAndTheLiveOneServesWhenTheOtherStops() {
        final StackConfig any = TestHomes.config("targets-rr", "memory");
        try (SoniaServer a = SoniaServer.builder(Stack.MEMORY, any).addService(new Named("a")).build().start()) {
            final SoniaServer b = SoniaServer.builder(Stack.MEMORY, any).addService(new Named("b")).build().start();
            final StackConfig config = any.withEnv(Map.of(
                    "SONIA_MEMORY_TARGET", "127.0.0.1:" + a.port() + ",127.0.0.1:" + b.port()));
            try (Downstream memory = Downstream.of(config, Stack.GATEWAY, Stack.MEMORY,
                                                   new DownstreamPolicy(5, Duration.ofSeconds(30), 16, 4))) {
                final MemoryServiceGrpc.MemoryServiceBlockingStub stub = MemoryServiceGrpc.newBlockingStub(memory.channel());
                final GetMemoryRequest get = GetMemoryRequest.newBuilder().setName("any").build();
                // Both replicas connect; from then on calls alternate between them.
                final Set<String> seen = new HashSet<>();
                await().atMost(Duration.ofSeconds(5)).until(() -> seen.add(stub.getMemory(get).getName()) && seen.size() == 2
                                                                  || seen.size() == 2);
                final Set<String> next = new HashSet<>();
                for (int i = 0; i < 4; i++) {
                    next.add(stub.getMemory(get).getName());
                }
                assertThat(next).containsExactlyInAnyOrder("a", "b");

                b.close();
                // The call that finds b gone is retried on a (UNAVAILABLE); then only a is picked.
                for (int i = 0; i < 10; i++) {
                    assertThat(stub.getMemory(get).getName()).isEqualTo("a");
                }
            }
        }
    }
}

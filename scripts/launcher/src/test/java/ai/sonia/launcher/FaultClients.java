package ai.sonia.launcher;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.grpc.GrpcClients;
import com.linecorp.armeria.common.annotation.Nullable;
import com.linecorp.armeria.common.util.EventLoopGroups;

import ai.sonia.common.v1.Scope;
import ai.sonia.gateway.v1.ChatRequest;
import ai.sonia.gateway.v1.GatewayServiceGrpc.GatewayServiceBlockingStub;
import ai.sonia.launcher.FaultHistory.Kind;
import ai.sonia.launcher.FaultHistory.Op;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryServiceGrpc.MemoryServiceBlockingStub;
import ai.sonia.memory.v1.StoreMemoryRequest;
import ai.sonia.runtime.testing.TestCredentials;
import io.grpc.StatusRuntimeException;

/**
 * The generator: users of different tenants, each calling as themselves (their own access token), the way a
 * program in any language would (a plain gRPC client, no retries): they store memories straight into memory
 * and chat through the gateway, back to back, and every outcome goes into the history. A tenant can also
 * fire a burst, or calls with deadlines too short to meet.
 */
final class FaultClients implements AutoCloseable {

    static final long STORE_DEADLINE_MS = 2_000;
    static final long CHAT_DEADLINE_MS = 5_000;

    private final InProcessStack stack;
    private final FaultHistory history;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicInteger sequence = new AtomicInteger();
    private final ExecutorService steady = Executors.newCachedThreadPool();
    // The users' own event loops, as in their own processes: the servers' event loops (Armeria's common
    // pool, shared in this JVM) must not delay a client's deadline timer, nor the other way round.
    private final ClientFactory factory =
            ClientFactory.builder().workerGroup(EventLoopGroups.newEventLoopGroup(2), true).build();

    FaultClients(InProcessStack stack, FaultHistory history) {
        this.stack = stack;
        this.history = history;
    }

    /** Starts {@code perTenant} clients in each tenant, alternating stores and chats until closed. */
    void startSteady(List<String> tenants, int perTenant) {
        for (String tenant : tenants) {
            for (int i = 0; i < perTenant; i++) {
                final String client = tenant + '-' + i;
                final User user = new User(tenant, client);
                steady.execute(() -> {
                    while (running.get()) {
                        user.store(client, STORE_DEADLINE_MS);
                        if (running.get()) {
                            user.chat(client, CHAT_DEADLINE_MS);
                        }
                    }
                });
            }
        }
    }

    /** {@code calls} concurrent operations by one user of {@code tenant}, each with {@code deadlineMs}. */
    void burst(String tenant, Kind kind, int calls, int concurrency, long deadlineMs) throws InterruptedException {
        final User user = new User(tenant, tenant + "-burst");
        // One call first, so the burst measures the servers, not this client opening its connections.
        user.store(tenant + "-burst", STORE_DEADLINE_MS);
        user.chat(tenant + "-burst", CHAT_DEADLINE_MS);
        final ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        final List<Runnable> work = new ArrayList<>();
        for (int i = 0; i < calls; i++) {
            work.add(() -> {
                if (kind == Kind.STORE) {
                    user.store(tenant + "-burst", deadlineMs);
                } else {
                    user.chat(tenant + "-burst", deadlineMs);
                }
            });
        }
        work.forEach(pool::execute);
        pool.shutdown();
        pool.awaitTermination(60, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        steady.shutdown();
        steady.awaitTermination(CHAT_DEADLINE_MS + 5_000, TimeUnit.MILLISECONDS);
        factory.close();
    }

    /** What a successful call leaves in the history: the stored memory's name, or whether a chat degraded. */
    private record Outcome(@Nullable String value, boolean degraded) {}

    /** One user with their own token and clients. */
    private final class User {
        final String tenant;
        final String name;
        final MemoryServiceBlockingStub memory;
        final GatewayServiceBlockingStub gateway;

        User(String tenant, String name) {
            this.tenant = tenant;
            this.name = name;
            final String token = TestCredentials.userToken(stack.config(), tenant, name);
            memory = GrpcClients.builder("http://127.0.0.1:" + stack.port("memory")).factory(factory)
                                .intercept(TestCredentials.bearer(token)).build(MemoryServiceBlockingStub.class);
            gateway = GrpcClients.builder("http://127.0.0.1:" + stack.port("gateway")).factory(factory)
                                 .intercept(TestCredentials.bearer(token)).build(GatewayServiceBlockingStub.class);
        }

        void store(String client, long deadlineMs) {
            final String text = "Fault run note " + sequence.incrementAndGet() + " of " + name + " in " + tenant;
            record(client, Kind.STORE, deadlineMs, text, () -> new Outcome(
                    memory.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS).storeMemory(
                            StoreMemoryRequest.newBuilder().setMemory(Memory.newBuilder().setText(text).setScope(
                                    Scope.newBuilder().setTenant(tenant).setUser(name))).build()).getMemory().getName(),
                    false));
        }

        void chat(String client, long deadlineMs) {
            record(client, Kind.CHAT, deadlineMs, null, () -> new Outcome(
                    null, gateway.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS)
                                 .chat(ChatRequest.newBuilder().setText("What did I note?").build())
                                 .getProvenance().getDegradedCount() > 0));
        }

        /** Makes {@code call} and adds it to the history: its times, and its status code when it fails. */
        private void record(String client, Kind kind, long deadlineMs, @Nullable String text, Supplier<Outcome> call) {
            final long start = System.nanoTime();
            String code = "OK";
            String detail = "";
            Outcome outcome = new Outcome(null, false);
            try {
                outcome = call.get();
            } catch (StatusRuntimeException e) {
                code = e.getStatus().getCode().name();
                detail = String.valueOf(e.getStatus().getDescription());
            } catch (RuntimeException e) {
                code = "CLIENT_ERROR";
                detail = e.toString();
            }
            history.add(new Op(client, tenant, kind, deadlineMs, start, System.nanoTime(), code, detail,
                               outcome.value(), text, outcome.degraded()));
        }
    }
}

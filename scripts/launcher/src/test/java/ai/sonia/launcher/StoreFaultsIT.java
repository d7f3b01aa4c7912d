package ai.sonia.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.grpc.GrpcClients;
import com.linecorp.armeria.common.AggregatedHttpResponse;

import ai.sonia.common.v1.Scope;
import ai.sonia.evaos.v1.AuthorizeActionRequest;
import ai.sonia.evaos.v1.EvaOsServiceGrpc.EvaOsServiceBlockingStub;
import ai.sonia.gateway.v1.AuthServiceGrpc.AuthServiceBlockingStub;
import ai.sonia.gateway.v1.LoginRequest;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryServiceGrpc.MemoryServiceBlockingStub;
import ai.sonia.memory.v1.StoreMemoryRequest;
import ai.sonia.openclaw.v1.ExecuteToolRequest;
import ai.sonia.openclaw.v1.OpenClawServiceGrpc.OpenClawServiceBlockingStub;
import ai.sonia.pipecat.v1.PipecatServiceGrpc.PipecatServiceBlockingStub;
import ai.sonia.pipecat.v1.StartSessionRequest;
import ai.sonia.router.v1.ChatMessage;
import ai.sonia.router.v1.ChatRequest;
import ai.sonia.router.v1.Role;
import ai.sonia.router.v1.RouterServiceGrpc.RouterServiceBlockingStub;
import ai.sonia.runtime.Errors;
import ai.sonia.runtime.testing.DiskFaults;
import ai.sonia.runtime.testing.TestCredentials;
import io.grpc.ClientInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * Every SQLite-backed service on a disk that stops taking writes (its data directory made immutable): the
 * call that needs a write answers UNAVAILABLE naming the database, {@code /readyz} is 503 naming it, the JVM
 * and the other five services stay up, and once the disk takes writes again the service is ready and writes
 * within seconds, by itself.
 */
class StoreFaultsIT {

    private static InProcessStack stack;
    private static ClientInterceptor credential;

    @BeforeAll
    static void start() {
        stack = new InProcessStack("store-faults", "{}");
        // A user of a tenant: sessions, tools and approvals belong to one.
        credential = TestCredentials.bearer(TestCredentials.userToken(stack.config(), "t", "u"));
        for (String service : new String[] { "gateway", "router", "memory", "pipecat", "openclaw", "evaos" }) {
            Awaitility.await().atMost(Duration.ofSeconds(90)).until(() -> readyz(service).status().code() == 200);
        }
    }

    @AfterAll
    static void stop() {
        stack.close();
    }

    @ParameterizedTest
    @ValueSource(strings = { "memory", "router", "pipecat", "openclaw", "evaos", "gateway" })
    void aServiceWhoseDiskRefusesWritesAnswersUnavailableAndHealsByItself(String service) throws Exception {
        write(service); // the database exists and the path works
        try (DiskFaults ignored = DiskFaults.readOnly(stack.config().dataDir(service))) {
            assertThatThrownBy(() -> write(service))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(Status.Code.UNAVAILABLE);
                        assertThat(Errors.envelopeCode(e)).isEqualTo("UNAVAILABLE");
                    });
            final AggregatedHttpResponse unready = readyz(service);
            assertThat(unready.status().code()).isEqualTo(503);
            assertThat(unready.contentUtf8()).contains(".db cannot be written");
            for (String other : new String[] { "gateway", "router", "memory", "pipecat", "openclaw", "evaos" }) {
                assertThat(get(other, "/livez").status().code()).as(other + " alive").isEqualTo(200);
            }
        }
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> readyz(service).status().code() == 200);
        write(service);
    }

    /** One call that makes the service write its database. */
    private static void write(String service) throws Exception {
        final String uri = "http://127.0.0.1:" + stack.port(service);
        switch (service) {
            case "memory" -> GrpcClients.builder(uri).intercept(credential).build(MemoryServiceBlockingStub.class)
                    .withDeadlineAfter(10, TimeUnit.SECONDS)
                    .storeMemory(StoreMemoryRequest.newBuilder().setMemory(Memory.newBuilder()
                            .setScope(Scope.newBuilder().setTenant("t").setUser("u"))
                            .setText("A note written at " + System.nanoTime())).build());
            case "router" -> GrpcClients.builder(uri).intercept(credential).build(RouterServiceBlockingStub.class)
                    .withDeadlineAfter(10, TimeUnit.SECONDS)
                    .chat(ChatRequest.newBuilder().addMessages(ChatMessage.newBuilder().setRole(Role.ROLE_USER)
                                                                          .setContent("hello")).build());
            case "pipecat" -> GrpcClients.builder(uri).intercept(credential).build(PipecatServiceBlockingStub.class)
                    .withDeadlineAfter(10, TimeUnit.SECONDS)
                    .startSession(StartSessionRequest.newBuilder().setUserId("u").build());
            case "openclaw" -> GrpcClients.builder(uri).intercept(credential).build(OpenClawServiceBlockingStub.class)
                    .withDeadlineAfter(10, TimeUnit.SECONDS)
                    .executeTool(ExecuteToolRequest.newBuilder().setToolName("time.now").build());
            case "evaos" -> GrpcClients.builder(uri).intercept(credential).build(EvaOsServiceBlockingStub.class)
                    .withDeadlineAfter(10, TimeUnit.SECONDS)
                    .authorizeAction(AuthorizeActionRequest.newBuilder().setToolName("shell.run").setArguments(
                            Struct.newBuilder().putFields("argv", Value.newBuilder().setListValue(
                                    ListValue.newBuilder().addValues(str("rm")).addValues(str("-rf"))
                                             .addValues(str("build-" + System.nanoTime()))).build())).build());
            case "gateway" -> GrpcClients.builder(uri).build(AuthServiceBlockingStub.class)
                    .withDeadlineAfter(10, TimeUnit.SECONDS)
                    .login(LoginRequest.newBuilder().setUsername("admin").setPassword(Files.readString(
                            stack.config().home().resolve("secrets/admin-password")).trim()).build());
            default -> throw new IllegalArgumentException(service);
        }
    }

    private static Value str(String s) {
        return Value.newBuilder().setStringValue(s).build();
    }

    private static AggregatedHttpResponse readyz(String service) {
        return get(service, "/readyz");
    }

    private static AggregatedHttpResponse get(String service, String path) {
        return WebClient.of("http://127.0.0.1:" + stack.port(service)).get(path).aggregate().join();
    }
}

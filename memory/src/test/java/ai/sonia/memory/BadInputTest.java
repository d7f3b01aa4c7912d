package ai.sonia.memory;

import static ai.sonia.memory.MemoryTestServer.scope;
import static ai.sonia.memory.MemoryTestServer.tenant;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.function.Consumer;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnknownFieldSet;
import com.google.rpc.BadRequest;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.MediaType;

import ai.sonia.common.v1.Role;
import ai.sonia.common.v1.Scope;
import ai.sonia.memory.v1.GetMemoryRequest;
import ai.sonia.memory.v1.GetMemoryStatsRequest;
import ai.sonia.memory.v1.ListMemoriesRequest;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryServiceGrpc.MemoryServiceBlockingStub;
import ai.sonia.memory.v1.MemoryStats;
import ai.sonia.memory.v1.SearchMemoriesRequest;
import ai.sonia.memory.v1.StoreMemoryRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

class BadInputTest {

    private static MemoryTestServer server;

    @BeforeAll
    static void start() {
        server = MemoryTestServer.fresh("bad-input");
        server.store(scope("bad", "ann", ""), "A valid memory that must survive every bad request.");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static Stream<Arguments> badRequests() {
        final Memory valid = Memory.newBuilder().setScope(tenant("bad")).setText("ok").build();
        final Scope unknownField = tenant("bad").toBuilder().setUnknownFields(
                UnknownFieldSet.newBuilder().addField(9, UnknownFieldSet.Field.newBuilder().addVarint(1).build())
                               .build()).build();
        return Stream.of(
                store("memory", StoreMemoryRequest.newBuilder().build()),
                store("memory.text", StoreMemoryRequest.newBuilder().setMemory(valid.toBuilder().setText("  "))
                                                       .build()),
                store("memory.text", StoreMemoryRequest.newBuilder().setMemory(
                        valid.toBuilder().setText("x".repeat(16_385))).build()),
                store("memory.scope.tenant", StoreMemoryRequest.newBuilder().setMemory(
                        valid.toBuilder().setScope(scope("b/d", "ann", ""))).build()),
                store("memory.scope.user", StoreMemoryRequest.newBuilder().setMemory(
                        valid.toBuilder().setScope(scope("bad", "ann", ""))).setTenantWide(true).build()),
                store("memory.scope.user", StoreMemoryRequest.newBuilder().setMemory(
                        valid.toBuilder().setScope(scope("bad", "a b", ""))).build()),
                store("memory.scope", StoreMemoryRequest.newBuilder().setMemory(
                        valid.toBuilder().setScope(unknownField)).build()),
                store("memory.kind", StoreMemoryRequest.newBuilder().setMemory(valid.toBuilder().setKindValue(99))
                                                       .build()),
                store("memory.metadata", StoreMemoryRequest.newBuilder().setMemory(
                        valid.toBuilder().putMetadata("bad key!", "v")).build()),
                store("ttl_seconds", StoreMemoryRequest.newBuilder().setMemory(valid).setTtlSeconds(-1).build()),
                store("ttl_seconds", StoreMemoryRequest.newBuilder().setMemory(valid).setTtlSeconds(Long.MAX_VALUE)
                                                       .build()),
                store("supersedes", StoreMemoryRequest.newBuilder().setMemory(valid).setSupersedes("../etc").build()),
                call("query", s -> s.searchMemories(SearchMemoriesRequest.newBuilder().setScope(tenant("bad"))
                                                                         .build())),
                call("scope.tenant", s -> s.searchMemories(SearchMemoriesRequest.newBuilder().setQuery("q")
                                                                                .setScope(scope("b d", "u", ""))
                                                                                .build())),
                call("metadata", s -> s.searchMemories(SearchMemoriesRequest.newBuilder().setQuery("q")
                                                                            .setScope(tenant("bad"))
                                                                            .putMetadata("$.x", "1").build())),
                call("kinds", s -> s.searchMemories(SearchMemoriesRequest.newBuilder().setQuery("q")
                                                                         .setScope(tenant("bad")).addKindsValue(42)
                                                                         .build())),
                call("top_k", s -> s.searchMemories(SearchMemoriesRequest.newBuilder().setQuery("q")
                                                                         .setScope(tenant("bad")).setTopK(-3)
                                                                         .build())),
                call("min_score", s -> s.searchMemories(SearchMemoriesRequest.newBuilder().setQuery("q")
                                                                             .setScope(tenant("bad"))
                                                                             .setMinScore(Double.NaN).build())),
                call("scope.user", s -> s.listMemories(ListMemoriesRequest.newBuilder().setScope(scope("bad", "u", ""))
                                                                          .setAllUsers(true).build())),
                call("page_size", s -> s.listMemories(ListMemoriesRequest.newBuilder().setScope(tenant("bad"))
                                                                         .setPageSize(-1).build())),
                call("page_token", s -> s.listMemories(ListMemoriesRequest.newBuilder().setScope(tenant("bad"))
                                                                          .setPageToken("garbage!").build())),
                call("name", s -> s.getMemory(GetMemoryRequest.newBuilder().setName("memories/../x").build())));
    }

    private static Arguments store(String field, StoreMemoryRequest request) {
        return call(field, s -> s.storeMemory(request));
    }

    private static Arguments call(String field, Consumer<MemoryServiceBlockingStub> call) {
        return Arguments.of(field, call);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRequests")
    void badInputIsInvalidArgumentNamingTheFieldAndWritesNothing(String field,
                                                                 Consumer<MemoryServiceBlockingStub> call) {
        final MemoryStats before = stats();

        assertThatThrownBy(() -> call.accept(server.stub))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(violatedField(e)).isEqualTo(field);
                });
        assertThat(stats()).isEqualTo(before);
    }

    @Test
    void supersedingAMissingMemoryIsNotFoundAndStoresNothing() {
        final MemoryStats before = stats();
        assertThatThrownBy(() -> server.stub.storeMemory(StoreMemoryRequest.newBuilder().setMemory(
                Memory.newBuilder().setScope(tenant("bad")).setText("new version"))
                                                                            .setSupersedes("memories/" + "0".repeat(32))
                                                                            .build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode())
                        .isEqualTo(Status.Code.NOT_FOUND));
        assertThat(stats()).isEqualTo(before);
    }

    @Test
    void restRefusesUnknownFieldsWithAnEnvelopeAnd400() {
        final AggregatedHttpResponse response = server.web("bad", "ann", Role.ROLE_USER).execute(
                HttpRequest.of(HttpMethod.POST, "/v1/memories:store", MediaType.JSON,
                               "{\"memory\":{\"text\":\"hi\",\"scope\":{\"tenant\":\"bad\",\"team\":\"x\"}}}"))
                                                         .aggregate().join();
        assertThat(response.status().code()).isEqualTo(400);
        assertThat(response.contentUtf8()).contains("\"ok\":false").contains("INVALID_ARGUMENT");
    }

    @Test
    void restStoresAndSearchesInTheEnvelope() {
        final WebClient client = server.web("rest", "rita", Role.ROLE_USER);
        final AggregatedHttpResponse stored = client.execute(HttpRequest.of(
                HttpMethod.POST, "/v1/memories:store", MediaType.JSON,
                "{\"memory\":{\"text\":\"REST callers can store too.\",\"scope\":{\"tenant\":\"rest\"}}}"))
                                                    .aggregate().join();
        assertThat(stored.status().code()).isEqualTo(200);
        assertThat(stored.contentUtf8()).contains("\"ok\":true").contains("\"created\":true");
        final AggregatedHttpResponse found = client.execute(HttpRequest.of(
                HttpMethod.POST, "/v1/memories:search", MediaType.JSON,
                "{\"query\":\"who can store\",\"scope\":{\"tenant\":\"rest\"}}")).aggregate().join();
        assertThat(found.contentUtf8()).contains("REST callers can store too.").contains("bm25_rank");
    }

    private static MemoryStats stats() {
        return server.stub.getMemoryStats(GetMemoryStatsRequest.getDefaultInstance()).toBuilder()
                          .clearDatabaseBytes().build();
    }

    private static String violatedField(StatusRuntimeException e) {
        final com.google.rpc.Status status = StatusProto.fromThrowable(e);
        for (Any detail : status.getDetailsList()) {
            if (detail.is(BadRequest.class)) {
                try {
                    return detail.unpack(BadRequest.class).getFieldViolations(0).getField();
                } catch (InvalidProtocolBufferException ex) {
                    throw new AssertionError(ex);
                }
            }
        }
        throw new AssertionError("no BadRequest in " + status);
    }
}

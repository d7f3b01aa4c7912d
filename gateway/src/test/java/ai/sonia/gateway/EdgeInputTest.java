package ai.sonia.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;

import ai.sonia.gateway.v1.GetUserRequest;
import ai.sonia.gateway.v1.UserServiceGrpc;
import ai.sonia.runtime.testing.RawBytes;
import ai.sonia.runtime.testing.SoniaServiceExtension;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * What a client can send never makes the gateway answer 500: an over-long path, an over-long id, or a JSON
 * body that is not UTF-8 is INVALID_ARGUMENT (400 and the envelope) or the method's own answer, over REST and gRPC.
 */
class EdgeInputTest {

    private static final ObjectMapper mapper = new ObjectMapper();
    private static final String LONG = "a".repeat(3000);

    @RegisterExtension
    static final SoniaServiceExtension gateway = GatewayHomes.alone("{\"auth\":{\"bcryptCost\":4}}");

    @ParameterizedTest
    @ValueSource(strings = {"/api/users/", "/api/keys/", "/v1/", "/"})
    void aPathOfThousandsOfCharactersIsInvalidArgument(String prefix) throws Exception {
        for (HttpMethod method : new HttpMethod[] {HttpMethod.GET, HttpMethod.DELETE, HttpMethod.POST}) {
            final AggregatedHttpResponse response = send(method, prefix + LONG, "{}".getBytes(StandardCharsets.UTF_8));
            assertThat(response.status().code()).as("%s %s", method, prefix).isEqualTo(400);
            final JsonNode envelope = mapper.readTree(response.contentUtf8());
            assertThat(envelope.at("/error/code").asText()).isEqualTo("INVALID_ARGUMENT");
            assertThat(envelope.at("/error/details/metadata/field").asText()).isEqualTo("path");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"/api/auth/login", "/api/auth/register", "/v1/chat", "/v1/action", "/api/keys"})
    void aJsonBodyThatIsNotUtf8IsInvalidArgument(String path) throws Exception {
        final byte[] prefix = "{\"text\":\"caf".getBytes(StandardCharsets.US_ASCII);
        final byte[] suffix = "\"}".getBytes(StandardCharsets.US_ASCII);
        final byte[] body = new byte[prefix.length + 2 + suffix.length];
        System.arraycopy(prefix, 0, body, 0, prefix.length);
        body[prefix.length] = (byte) 0xC3; // a lead byte followed by one that cannot continue it
        body[prefix.length + 1] = (byte) 0x28;
        System.arraycopy(suffix, 0, body, prefix.length + 2, suffix.length);
        final AggregatedHttpResponse response = send(HttpMethod.POST, path, body);
        assertThat(response.status().code()).as(response.contentUtf8()).isEqualTo(400);
        assertThat(mapper.readTree(response.contentUtf8()).at("/error/message").asText()).contains("UTF-8");
        // Valid UTF-8 of the same shape passes the edge (and gets the method's own answer).
        assertThat(send(HttpMethod.POST, path, "{\"text\":\"café\"}".getBytes(StandardCharsets.UTF_8))
                           .status().code()).isNotIn(500);
    }

    @Test
    void anOverLongIdIsAnsweredNotFailed() {
        assertThat(send(HttpMethod.GET, "/api/users/" + "b".repeat(1000), null).status().code()).isEqualTo(404);
        assertThatThrownBy(() -> gateway.stub(UserServiceGrpc::newBlockingStub, gateway.adminToken()).getUser(
                GetUserRequest.newBuilder().setUserId("c".repeat(20_000)).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(e.getStatus().getDescription()).hasSizeLessThan(400);
                });
    }

    @Test
    void aGrpcStringThatIsNotUtf8IsInvalidArgument() {
        // LoginRequest{username (1): "caf\xC3(" , password (2): "x"} written by hand: protobuf refuses it.
        final byte[] body = {0x0a, 0x05, 'c', 'a', 'f', (byte) 0xC3, 0x28, 0x12, 0x01, 'x'};
        final io.grpc.MethodDescriptor<byte[], byte[]> login =
                io.grpc.MethodDescriptor.<byte[], byte[]>newBuilder()
                                        .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
                                        .setFullMethodName("sonia.gateway.v1.AuthService/Login")
                                        .setRequestMarshaller(RawBytes.INSTANCE)
                                        .setResponseMarshaller(RawBytes.INSTANCE)
                                        .build();
        assertThatThrownBy(() -> io.grpc.stub.ClientCalls.blockingUnaryCall(gateway.channel(), login,
                                                                            io.grpc.CallOptions.DEFAULT, body))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                                        e -> assertThat(e.getStatus().getCode()).as(e.getStatus().toString())
                                                    .isEqualTo(Status.Code.INVALID_ARGUMENT));
    }


    private static AggregatedHttpResponse send(HttpMethod method, String path, byte[] body) {
        final RequestHeaders headers = RequestHeaders.builder(method, path)
                                                     .contentType(MediaType.JSON_UTF_8)
                                                     .add("authorization", "Bearer " + gateway.adminToken()).build();
        final WebClient client = WebClient.of(gateway.httpUri());
        return (body == null ? client.execute(headers) : client.execute(headers, HttpData.wrap(body)))
                .aggregate().join();
    }
}

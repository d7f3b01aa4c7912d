package ai.sonia.memory;

import static ai.sonia.memory.MemoryTestServer.scope;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.MediaType;

import ai.sonia.memory.v1.GetMemoryRequest;
import ai.sonia.runtime.Errors;
import ai.sonia.runtime.testing.DiskFaults;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The memory ledger on a disk that stops taking writes (its files made immutable, as a read-only remount
 * would): stores fail with UNAVAILABLE naming the reason, reads go on, {@code /readyz} says why, the JVM
 * stays up (it died with SIGBUS before), and once the disk takes writes again everything recovers by
 * itself within seconds, with every acknowledged memory still there.
 */
class StorageFaultTest {

    private static final ObjectMapper mapper = new ObjectMapper();

    @Test
    void aLedgerThatCannotWriteIsUnavailableNotReadyAndRecoversByItself() throws Exception {
        try (MemoryTestServer server = MemoryTestServer.fresh("storage-fault")) {
            final WebClient probes = WebClient.of(server.uri()); // no credential
            Awaitility.await().atMost(Duration.ofSeconds(60))
                      .until(() -> probes.get("/readyz").aggregate().join().status().code() == 200);
            final List<String> acknowledged = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                acknowledged.add(server.store(scope("t", "u", ""), "Kept before the fault, number " + i)
                                       .getMemory().getName());
            }

            try (DiskFaults ignored = DiskFaults.readOnly(server.database().getParent())) {
                for (int i = 0; i < 3; i++) {
                    final int n = i;
                    assertThatThrownBy(() -> server.store(scope("t", "u", ""), "Written on a read-only disk " + n))
                            .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                                assertThat(e.getStatus().getDescription()).contains("memory.db", "disk I/O error");
                                assertThat(Errors.envelopeCode(e)).isEqualTo("UNAVAILABLE");
                                assertThat(Errors.metadata(e, "store")).isEqualTo("memory.db");
                                assertThat(Errors.metadata(e, "reason")).isEqualTo("disk I/O error");
                            });
                }
                final AggregatedHttpResponse unready = probes.get("/readyz").aggregate().join();
                assertThat(unready.status().code()).isEqualTo(503);
                final JsonNode body = mapper.readTree(unready.contentUtf8());
                assertThat(body.get("ok").asBoolean()).isFalse();
                assertThat(body.get("reasons").toString()).contains("memory.db cannot be written: disk I/O error");
                assertThat(probes.get("/livez").aggregate().join().status().code()).isEqualTo(200);
                // Reads still answer from the readers.
                assertThat(server.stub.getMemory(GetMemoryRequest.newBuilder().setName(acknowledged.get(0)).build())
                                      .getText()).isEqualTo("Kept before the fault, number 0");
                // The REST edge says the same as gRPC: 503 with the envelope's UNAVAILABLE.
                final AggregatedHttpResponse rest = server.serviceWeb().execute(HttpRequest.of(
                        HttpMethod.POST, "/v1/memories:store", MediaType.JSON_UTF_8,
                        "{\"memory\":{\"scope\":{\"tenant\":\"t\",\"user\":\"u\"},\"text\":\"over REST\"}}"))
                        .aggregate().join();
                assertThat(rest.status().code()).as(rest.contentUtf8()).isEqualTo(503);
                assertThat(mapper.readTree(rest.contentUtf8()).at("/error/code").asText()).isEqualTo("UNAVAILABLE");
            }

            final long released = System.nanoTime();
            Awaitility.await().atMost(Duration.ofSeconds(5))
                      .until(() -> probes.get("/readyz").aggregate().join().status().code() == 200);
            final long readyAfterMs = (System.nanoTime() - released) / 1_000_000;
            acknowledged.add(server.store(scope("t", "u", ""), "Written after the disk came back").getMemory().getName());
            for (String name : acknowledged) {
                assertThat(server.stub.getMemory(GetMemoryRequest.newBuilder().setName(name).build()).getName())
                        .isEqualTo(name);
            }
            System.out.println("memory ready again " + readyAfterMs + " ms after the disk took writes again");
        }
    }
}

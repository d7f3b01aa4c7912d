package ai.sonia.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.common.v1.Role;
import ai.sonia.memory.v1.BackupMemoriesRequest;
import ai.sonia.memory.v1.ForgetMemoryRequest;
import ai.sonia.memory.v1.GetMemoryRequest;
import ai.sonia.memory.v1.ListMemoriesRequest;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryServiceGrpc;
import ai.sonia.memory.v1.MemoryServiceGrpc.MemoryServiceBlockingStub;
import ai.sonia.memory.v1.RestoreMemoriesRequest;
import ai.sonia.memory.v1.SearchHit;
import ai.sonia.memory.v1.SearchMemoriesRequest;
import ai.sonia.memory.v1.StoreMemoryRequest;
import ai.sonia.runtime.testing.EmbeddedPostgresExtension;
import ai.sonia.runtime.testing.SoniaServiceExtension;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * {@code "store": {"engine": "postgres"}}: two memory replicas on one ledger, each with its own in-process
 * search index, and a start that fails closed.
 */
class PostgresEngineTest {

    @RegisterExtension
    static final EmbeddedPostgresExtension postgres = new EmbeddedPostgresExtension();

    private static SoniaServiceExtension a;
    private static SoniaServiceExtension b;

    @BeforeAll
    static void startTwoReplicas() {
        final String config = stackConfig(postgres.url());
        a = SoniaServiceExtension.of(new MemoryModule()).stackConfig(config).start();
        b = SoniaServiceExtension.of(new MemoryModule()).stackConfig(config).start();
    }

    @AfterAll
    static void stop() {
        b.close();
        a.close();
    }

    @Test
    void aMemoryStoredThroughOneReplicaIsReadListedAndFoundThroughTheOther() {
        final Memory stored = ann(a).storeMemory(StoreMemoryRequest.newBuilder().setMemory(
                Memory.newBuilder().setText("Ann's sailing boat is called Kestrel.")).build()).getMemory();

        assertThat(ann(b).getMemory(GetMemoryRequest.newBuilder().setName(stored.getName()).build()).getText())
                .isEqualTo("Ann's sailing boat is called Kestrel.");
        assertThat(ann(b).listMemories(ListMemoriesRequest.getDefaultInstance()).getMemoriesList())
                .extracting(Memory::getName).contains(stored.getName());
        // B's own index follows the ledger's change feed (every 250 ms).
        await().atMost(Duration.ofSeconds(5)).untilAsserted(
                () -> assertThat(search(b, "Kestrel sailing")).extracting(hit -> hit.getMemory().getName())
                                                                  .contains(stored.getName()));

        // Forgotten through B: gone from A's results too.
        ann(b).forgetMemory(ForgetMemoryRequest.newBuilder().setName(stored.getName()).build());
        await().atMost(Duration.ofSeconds(5)).untilAsserted(
                () -> assertThat(search(a, "Kestrel sailing")).isEmpty());
    }

    @Test
    void aRestoreThroughOneReplicaReloadsTheOthersIndex() {
        final Memory kept = ann(a).storeMemory(StoreMemoryRequest.newBuilder().setMemory(
                Memory.newBuilder().setText("Ann's bicycle is a red Brompton.")).build()).getMemory();
        final MemoryServiceBlockingStub service =
                a.stub(MemoryServiceGrpc::newBlockingStub, a.serviceToken("memory-test"));
        service.backupMemories(BackupMemoriesRequest.newBuilder().setBackupId("before-forget").build());
        ann(a).forgetMemory(ForgetMemoryRequest.newBuilder().setName(kept.getName()).build());
        assertThat(search(b, "Brompton bicycle")).isEmpty();

        service.restoreMemories(RestoreMemoriesRequest.newBuilder().setBackupId("before-forget").build());
        // B's index reloads on the feed's RELOAD (IndexLoader's own test watches the index itself).
        await().atMost(Duration.ofSeconds(5)).untilAsserted(
                () -> assertThat(search(b, "Brompton bicycle")).extracting(hit -> hit.getMemory().getName())
                                                               .contains(kept.getName()));
    }

    private static final int QUOTA = 5;

    /**
     * One user storing through both replicas at once cannot go past the quota: the count lives in the ledger,
     * and each store checks it in its own transaction.
     */
    @Test
    void storesOfOneUserThroughBothReplicasAtOnceStopAtTheQuota() throws Exception {
        final ExecutorService callers = Executors.newFixedThreadPool(8);
        try {
            final List<Future<Status.Code>> stores = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                final SoniaServiceExtension replica = i % 2 == 0 ? a : b;
                final String text = "Quinn's note number " + i + '.';
                stores.add(callers.submit(() -> {
                    try {
                        quinn(replica).storeMemory(StoreMemoryRequest.newBuilder()
                                                                     .setMemory(Memory.newBuilder().setText(text)).build());
                        return Status.Code.OK;
                    } catch (StatusRuntimeException e) {
                        return e.getStatus().getCode();
                    }
                }));
            }
            final List<Status.Code> codes = new ArrayList<>();
            for (Future<Status.Code> store : stores) {
                codes.add(store.get());
            }
            assertThat(codes).filteredOn(Status.Code.OK::equals).hasSize(QUOTA);
            assertThat(codes).filteredOn(Status.Code.RESOURCE_EXHAUSTED::equals).hasSize(16 - QUOTA);
        } finally {
            callers.shutdownNow();
        }
        assertThat(quinn(b).listMemories(ListMemoriesRequest.getDefaultInstance()).getMemoriesCount()).isEqualTo(QUOTA);
    }

    @Test
    void anUnreachablePostgresFailsTheStartNamingItAndNotThePassword() {
        final SoniaServiceExtension memory = SoniaServiceExtension.of(new MemoryModule())
                .stackConfig(stackConfig(EmbeddedPostgresExtension.UNREACHABLE));
        EmbeddedPostgresExtension.assertFailsClosed(memory::start);
        memory.close();
    }

    private static List<SearchHit> search(SoniaServiceExtension replica, String query) {
        return ann(replica).searchMemories(SearchMemoriesRequest.newBuilder().setQuery(query).build()).getHitsList();
    }

    /** Ann of acme, through {@code replica} (each replica's home signs its own tokens). */
    private static MemoryServiceBlockingStub ann(SoniaServiceExtension replica) {
        return replica.stub(MemoryServiceGrpc::newBlockingStub, replica.token("acme", "ann", Role.ROLE_USER));
    }

    private static MemoryServiceBlockingStub quinn(SoniaServiceExtension replica) {
        return replica.stub(MemoryServiceGrpc::newBlockingStub, replica.token("acme", "quinn", Role.ROLE_USER));
    }

    /** A stack config on the PostgreSQL at {@code url} (the test kit's); memory alone. */
    private static String stackConfig(String url) {
        return EmbeddedPostgresExtension.stackConfig(url, "\"services\":{\"memory\":{\"training\":{\"enforce\":false},"
                                                      + "\"maxMemoriesPerUser\":" + QUOTA + "}}");
    }
}

package ai.sonia.memory;

import static ai.sonia.memory.MemoryTestServer.scope;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.MediaType;

import ai.sonia.common.v1.Role;
import ai.sonia.common.v1.Scope;
import ai.sonia.memory.v1.AuditAction;
import ai.sonia.memory.v1.BackupMemoriesRequest;
import ai.sonia.memory.v1.BackupMemoriesResponse;
import ai.sonia.memory.v1.ForgetMemoryRequest;
import ai.sonia.memory.v1.GetMemoryRequest;
import ai.sonia.memory.v1.ListAuditRecordsRequest;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryServiceGrpc.MemoryServiceBlockingStub;
import ai.sonia.memory.v1.RestoreMemoriesRequest;
import ai.sonia.memory.v1.RestoreMemoriesResponse;
import ai.sonia.memory.v1.SearchMemoriesRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** Online backup and restore of the whole ledger, by a Sonia service acting for itself. */
class BackupRestoreTest {

    @Test
    void restoreBringsBackTheLedgerAsBackedUpWhileServing() {
        try (MemoryTestServer server = MemoryTestServer.fresh("backup")) {
            final Scope scope = scope("bk", "ann", "");
            final Memory kept = server.store(scope, "Ann's passport expires in March.").getMemory();
            final BackupMemoriesResponse backup = server.stub.backupMemories(
                    BackupMemoriesRequest.newBuilder().setBackupId("before-change").build());
            assertThat(Path.of(backup.getPath())).exists();
            assertThat(backup.getSizeBytes()).isPositive();

            final Memory later = server.store(scope, "Ann renewed her passport.").getMemory();
            server.stub.forgetMemory(ForgetMemoryRequest.newBuilder().setName(kept.getName()).build());

            final RestoreMemoriesResponse restored = server.stub.restoreMemories(
                    RestoreMemoriesRequest.newBuilder().setBackupId("before-change").build());

            assertThat(restored.getMemories()).isEqualTo(1);
            assertThat(server.stub.getMemory(GetMemoryRequest.newBuilder().setName(kept.getName()).build()).getText())
                    .isEqualTo("Ann's passport expires in March.");
            assertThatThrownBy(() -> server.stub.getMemory(GetMemoryRequest.newBuilder().setName(later.getName())
                                                                           .build()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode())
                            .isEqualTo(Status.Code.NOT_FOUND));
            assertThat(server.stub.searchMemories(SearchMemoriesRequest.newBuilder().setScope(scope)
                                                                       .setQuery("when does the passport expire")
                                                                       .build()).getHits(0).getVectorRank())
                    .isEqualTo(1);
            assertThat(server.stub.listAuditRecords(ListAuditRecordsRequest.getDefaultInstance())
                                  .getAuditRecords(0).getAction()).isEqualTo(AuditAction.AUDIT_ACTION_RESTORE);
        }
    }

    @Test
    void backupAndRestoreRefuseBadIdsMissingAndCorruptBackups() throws Exception {
        try (MemoryTestServer server = MemoryTestServer.fresh("backup-bad")) {
            server.stub.backupMemories(BackupMemoriesRequest.newBuilder().setBackupId("b1").build());

            assertCode(() -> server.stub.backupMemories(BackupMemoriesRequest.newBuilder().setBackupId("b1").build()),
                       Status.Code.ALREADY_EXISTS);
            assertCode(() -> server.stub.backupMemories(BackupMemoriesRequest.newBuilder().setBackupId("../x").build()),
                       Status.Code.INVALID_ARGUMENT);
            assertCode(() -> server.stub.restoreMemories(RestoreMemoriesRequest.newBuilder().setBackupId("none")
                                                                               .build()),
                       Status.Code.NOT_FOUND);
            Files.writeString(server.home.resolve("data/memory/backups/junk.db"), "not a database");
            assertCode(() -> server.stub.restoreMemories(RestoreMemoriesRequest.newBuilder().setBackupId("junk")
                                                                               .build()),
                       Status.Code.FAILED_PRECONDITION);
        }
    }

    @Test
    void backupIsReachableOverRest() {
        try (MemoryTestServer server = MemoryTestServer.fresh("backup-rest")) {
            final AggregatedHttpResponse response = backupOverRest(server.serviceWeb());
            assertThat(response.status().code()).isEqualTo(200);
            assertThat(response.contentUtf8()).contains("\"backup_id\":\"memory-");
        }
    }

    /** A backup holds every tenant: even a tenant's admin may neither take nor restore one. */
    @Test
    void onlyAServiceActingForItselfMayBackUpOrRestore() {
        try (MemoryTestServer server = MemoryTestServer.fresh("backup-denied")) {
            server.stub.backupMemories(BackupMemoriesRequest.newBuilder().setBackupId("b1").build());
            for (Role role : new Role[] {Role.ROLE_ADMIN, Role.ROLE_USER}) {
                final MemoryServiceBlockingStub stub = server.as("acme", "ann", role);
                assertCode(() -> stub.backupMemories(BackupMemoriesRequest.newBuilder().setBackupId("b2").build()),
                           Status.Code.PERMISSION_DENIED);
                assertCode(() -> stub.restoreMemories(RestoreMemoriesRequest.newBuilder().setBackupId("b1").build()),
                           Status.Code.PERMISSION_DENIED);
                final AggregatedHttpResponse response = backupOverRest(server.web("acme", "ann", role));
                assertThat(response.status().code()).isEqualTo(403);
                assertThat(response.contentUtf8()).contains("PERMISSION_DENIED");
            }
            assertThat(server.home.resolve("data/memory/backups")).isDirectoryNotContaining("glob:**/b2.db")
                                                                 .isDirectoryContaining("glob:**/b1.db");
            assertThat(server.stub.listAuditRecords(ListAuditRecordsRequest.getDefaultInstance())
                                  .getAuditRecordsList()).noneMatch(r -> r.getAction() == AuditAction.AUDIT_ACTION_RESTORE);
        }
    }

    private static AggregatedHttpResponse backupOverRest(WebClient client) {
        return client.execute(HttpRequest.of(HttpMethod.POST, "/v1/memories:backup", MediaType.JSON, "{}"))
                     .aggregate().join();
    }

    private static void assertCode(Runnable call, Status.Code code) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(
                StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(code));
    }
}

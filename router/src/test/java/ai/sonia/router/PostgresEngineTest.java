package ai.sonia.router;

import static ai.sonia.router.Requests.ask;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.router.v1.ContextPassage;
import ai.sonia.router.v1.GetUsageRequest;
import ai.sonia.router.v1.RouterServiceGrpc;
import ai.sonia.router.v1.RouterServiceGrpc.RouterServiceBlockingStub;
import ai.sonia.runtime.testing.EmbeddedPostgresExtension;
import ai.sonia.runtime.testing.SoniaServiceExtension;
import ai.sonia.runtime.testing.TestHomes;

/** {@code "store": {"engine": "postgres"}}: two router replicas on one ledger, and a start that fails closed. */
class PostgresEngineTest {

    @RegisterExtension
    static final EmbeddedPostgresExtension postgres = new EmbeddedPostgresExtension();

    @Test
    void twoReplicasServeFromOneLedger() throws IOException {
        final String config = stackConfig(postgres.url());
        try (SoniaServiceExtension a = SoniaServiceExtension.of(new RouterModule()).stackConfig(config).start();
             SoniaServiceExtension b = SoniaServiceExtension.of(new RouterModule()).stackConfig(config).start()) {
            for (SoniaServiceExtension replica : new SoniaServiceExtension[] {a, b, b}) {
                stub(replica).chat(ask("extractive", "What is the ledger?").toBuilder()
                        .addContext(ContextPassage.newBuilder().setSource("memories/1")
                                                  .setText("The ledger is shared by every replica."))
                        .build());
            }
            // Each replica's usage report counts what the other served.
            assertThat(stub(a).getUsage(GetUsageRequest.getDefaultInstance()).getTotal().getRequests()).isEqualTo(3);
            assertThat(stub(b).getUsage(GetUsageRequest.getDefaultInstance()).getTotal().getRequests()).isEqualTo(3);
        }
    }

    @Test
    void anUnreachablePostgresFailsTheStartNamingItAndNotThePassword() throws IOException {
        final SoniaServiceExtension router = SoniaServiceExtension.of(new RouterModule())
                .stackConfig(stackConfig("jdbc:postgresql://127.0.0.1:1/sonia"));
        assertThatThrownBy(router::start)
                .hasMessageContaining("store.engine is postgres, but jdbc:postgresql://127.0.0.1:1/sonia cannot be reached")
                .hasMessageNotContaining("s3cret");
        router.close();
    }

    private static RouterServiceBlockingStub stub(SoniaServiceExtension replica) {
        return replica.stub(RouterServiceGrpc::newBlockingStub, replica.adminToken());
    }

    /** A stack config on the PostgreSQL at {@code url}, its password in an owner-only file. */
    private static String stackConfig(String url) throws IOException {
        final Path password = TestHomes.create("postgres-password").resolve("password");
        Files.writeString(password, "s3cret\n");
        Files.setPosixFilePermissions(password, PosixFilePermissions.fromString("rw-------"));
        return "{\"store\":{\"engine\":\"postgres\",\"postgres\":{\"url\":\"" + url + "\",\"user\":\"postgres\","
               + "\"passwordFile\":\"" + password + "\",\"poolSize\":2}}}";
    }
}

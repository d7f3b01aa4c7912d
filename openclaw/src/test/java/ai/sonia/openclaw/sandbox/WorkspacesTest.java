package ai.sonia.openclaw.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** One workspace per tenant, none inside another, and the jail shows a call only its own. */
class WorkspacesTest {

    private Path base;
    private Workspaces workspaces;

    @BeforeEach
    void setUp() {
        base = Path.of("target", "workspaces-" + UUID.randomUUID()).toAbsolutePath();
        workspaces = new Workspaces(base.resolve("workspace"), base.resolve("tenants"));
    }

    @Test
    void tenantDefaultKeepsTheConfiguredWorkspaceAndOthersGetTheirOwn() throws Exception {
        assertThat(workspaces.forTenant("default").root()).isEqualTo(base.resolve("workspace").toRealPath());
        assertThat(workspaces.forTenant("acme").root()).isEqualTo(base.resolve("tenants/acme").toRealPath());
        assertThat(workspaces.forTenant("acme")).isSameAs(workspaces.forTenant("acme"));
    }

    @Test
    void aTenantNameNeverLeadsOutOfTheTenantsDirectory() throws Exception {
        final Path tenants = base.resolve("tenants").toRealPath();
        for (String tenant : List.of("..", ".", "../default", "a/b", "x y", "%61", "ünï")) {
            final Path root = workspaces.forTenant(tenant).root();
            assertThat(root.getParent()).as(tenant).isEqualTo(tenants);
        }
        // Plain names stay readable; others are hex-encoded behind a '%' that no plain name has.
        assertThat(Workspaces.directoryName("acme-2.eu")).isEqualTo("acme-2.eu");
        assertThat(Workspaces.directoryName("..")).isEqualTo("%2e2e");
        assertThat(Workspaces.directoryName("%61")).isNotEqualTo(Workspaces.directoryName("a"));
        assertThatThrownBy(() -> workspaces.forTenant("")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void workspacesThatContainOneAnotherAreRefused() {
        assertThatThrownBy(() -> new Workspaces(base.resolve("w"), base.resolve("w/tenants")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Workspaces(base.resolve("t/default"), base.resolve("t")))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theJailShowsACallOnlyItsOwnTenantsWorkspace() throws Exception {
        final Jail jail = new Jail(Jail.Mode.AUTO, Jail.find("bwrap", System.getenv("PATH")));
        ai.sonia.openclaw.TestJail.requireBubblewrap();
        final Workspace acme = workspaces.forTenant("acme");
        final Workspace globex = workspaces.forTenant("globex");
        Files.writeString(acme.root().resolve("acme-secret.txt"), "acme only");
        Files.writeString(workspaces.defaultWorkspace().root().resolve("default-secret.txt"), "default only");
        try (ProcessRunner runner = new ProcessRunner(jail, SandboxLimits.defaults())) {
            final ProcessResult seen = runner.run(
                    List.of("sh", "-c", "cat \"$0\"/acme-secret.txt \"$1\"/default-secret.txt; ls -a \"$0\" \"$1\"",
                            acme.root().toString(), workspaces.defaultWorkspace().root().toString()),
                    globex.root(), globex.root(), "", Duration.ofSeconds(10), false);
            assertThat(seen.stdout()).doesNotContain("acme only").doesNotContain("default only")
                                     .doesNotContain("acme-secret.txt").doesNotContain("default-secret.txt");
            final ProcessResult own = runner.run(List.of("cat", "acme-secret.txt"), acme.root(), acme.root(), "",
                                                 Duration.ofSeconds(10), false);
            assertThat(own.stdout()).isEqualTo("acme only");
        }
    }
}

package ai.sonia.runtime.status;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import com.linecorp.armeria.common.annotation.Nullable;

import ai.sonia.common.v1.DependencyStatus;
import ai.sonia.runtime.store.StoreHealth;

/**
 * Whether a service should get traffic ({@code /readyz}), as the sum of what the service feeds in: its
 * stores can write (every database under its data directory, found through {@link StoreHealth}), its
 * indexes are built and its engines loaded (named checks the service adds), and its required
 * dependencies answer their health checks. Liveness is not here: {@code /livez} only proves the event
 * loop answers.
 */
public final class Readiness {

    /** One condition of readiness. */
    @FunctionalInterface
    public interface Check {
        /** Why the service is not ready, or null when this condition holds. */
        @Nullable
        String problem();
    }

    private final Path dataDir;
    private final Map<String, Check> checks = new LinkedHashMap<>();
    @Nullable
    private final DependencyProbe required;

    /**
     * Readiness of a service whose stores live under {@code dataDir}, with its named checks and, when not
     * null, a probe of the dependencies it cannot work without.
     */
    public Readiness(Path dataDir, Map<String, Check> checks, @Nullable DependencyProbe required) {
        this.dataDir = dataDir;
        this.checks.putAll(checks);
        this.required = required;
    }

    /** Every reason the service is not ready now; empty when it is. Never fails. */
    public CompletableFuture<List<String>> problems() {
        final List<String> problems = new ArrayList<>(StoreHealth.problemsUnder(dataDir));
        checks.forEach((name, check) -> {
            final String problem;
            try {
                problem = check.problem();
            } catch (RuntimeException e) {
                problems.add(name + ": " + e.getMessage());
                return;
            }
            if (problem != null) {
                problems.add(problem);
            }
        });
        if (required == null) {
            return CompletableFuture.completedFuture(problems);
        }
        return required.probeAll().thenApply(deps -> {
            for (DependencyStatus dep : deps) {
                if (!dep.getOk()) {
                    problems.add("required dependency " + dep.getName() + " is down: " + dep.getError());
                }
            }
            return problems;
        });
    }
}

package ai.sonia.router.domain;

import java.util.List;

/**
 * The answer of a routed request, with the deployment that served it and every try on the way; {@code cached}
 * when it came from the {@link ResponseCache} (no try, no tokens, no cost).
 */
public record RoutedCompletion(Completion completion, Deployment deployment, List<Attempt> attempts,
                               long latencyMs, long costMicros, boolean midstreamFallover,
                               long routerOverheadMicros, boolean cached) {

    public RoutedCompletion {
        attempts = List.copyOf(attempts);
    }
}

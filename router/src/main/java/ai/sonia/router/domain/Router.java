package ai.sonia.router.domain;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.runtime.errors.DomainException;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;

/**
 * Routes a chat over a model's fallback chain. The one retry layer of the stack: providers' clients
 * never retry; a deployment that answers 5xx is retried here (resilience4j) while the shared retry
 * budget allows; any failure another deployment could fix moves on to the next one; client errors end
 * the request at once. Failing deployments are cooled down for everyone via the {@link HealthBoard}.
 * Every request first reserves its worst case in its tenant's {@link Budgets}, and settles it after.
 */
public final class Router {

    /** The ledger's provider of an answer served from the {@link ResponseCache}. */
    public static final String CACHE_PROVIDER = "cache";

    private final ModelCatalog catalog;
    private final Map<String, ChatProvider> providers;
    private final HealthBoard health;
    private final RetryBudget budget;
    private final RetryConfig retryConfig;
    private final Budgets budgets;
    private final ResponseCache cache;
    private final int maxAttempts;
    private final Map<String, Retry> retries = new ConcurrentHashMap<>();

    public Router(ModelCatalog catalog, Map<String, ChatProvider> providers, HealthBoard health,
                  RetryBudget budget, int maxAttemptsPerDeployment, Duration retryWait, Budgets budgets,
                  ResponseCache cache) {
        this.catalog = catalog;
        this.providers = Map.copyOf(providers);
        this.health = health;
        this.budget = budget;
        this.budgets = budgets;
        this.cache = cache;
        maxAttempts = maxAttemptsPerDeployment;
        retryConfig = RetryConfig.custom()
                                 .maxAttempts(maxAttemptsPerDeployment)
                                 .waitDuration(retryWait)
                                 .retryOnException(error -> error instanceof Retryable)
                                 .build();
        catalog.deployments().forEach(d -> {
            if (!this.providers.containsKey(d.provider())) {
                throw new IllegalArgumentException(d.name() + ": unknown provider " + d.provider());
            }
        });
    }

    public ModelCatalog catalog() {
        return catalog;
    }

    public HealthBoard health() {
        return health;
    }

    public Budgets budgets() {
        return budgets;
    }

    /**
     * Completes the call on the first deployment of its chain that answers, or, for a deterministic call
     * (temperature 0) asked before by its tenant, with the {@link ResponseCache}'s answer: no provider call,
     * a ledger row of zero tokens and zero cost (provider {@value #CACHE_PROVIDER}), no budget reserved.
     */
    public RoutedCompletion chat(ChatCall call, Instant deadline) {
        final long startNanos = System.nanoTime();
        // Keyed as the providers would be asked: with the answer capped as budgets cap it.
        final ChatCall asked = budgets.limitsOf(call.tenant()).limited()
                               ? call.withMaxTokens(budgets.outputTokensFor(call)) : call;
        final ResponseCache.Key key = cache.keyOf(asked, catalog.chain(call.model()));
        if (key != null) {
            final ResponseCache.Answer hit = cache.get(key);
            if (hit != null) {
                return fromCache(call, hit, startNanos);
            }
        }
        final RoutedCompletion routed = budgeted(call, deadline, (capped, deployment, started) ->
                providers.get(deployment.provider()).chat(deployment, capped));
        if (key != null) {
            cache.put(key, new ResponseCache.Answer(routed.completion(), routed.deployment()));
        }
        return routed;
    }

    private RoutedCompletion fromCache(ChatCall call, ResponseCache.Answer hit, long startNanos) {
        final Completion stored = hit.completion();
        final Completion free = new Completion(stored.content(), stored.toolCalls(), stored.finishReason(),
                                               stored.model(), 0, 0);
        final long latencyMs = (System.nanoTime() - startNanos) / 1_000_000;
        budgets.record(new UsageRecord(System.currentTimeMillis(), call.tenant(), call.principal(),
                                       catalog.aliasOf(call.model()), hit.deployment().name(), CACHE_PROVIDER, 0, 0, 0,
                                       latencyMs));
        return new RoutedCompletion(free, hit.deployment(), List.of(), latencyMs, 0, false,
                                    (System.nanoTime() - startNanos) / 1_000, true);
    }

    /** Streams the call; deltas go to {@code onDelta} as they come. */
    public RoutedCompletion stream(ChatCall call, Instant deadline, Consumer<String> onDelta) {
        return budgeted(call, deadline, (capped, deployment, started) -> providers.get(deployment.provider()).stream(
                deployment, capped, delta -> {
                    started.set(true);
                    onDelta.accept(delta);
                }));
    }

    /**
     * Reserves the call's worst case in its tenant's budget (its prompt's upper bound plus the answer tokens
     * it may get, priced at the dearest deployment of its chain), routes it with the answer capped at what
     * was reserved when a limit applies, then settles the reservation with the ledger row, or releases it
     * when no deployment answered.
     */
    private RoutedCompletion budgeted(ChatCall call, Instant deadline, Call attempt) {
        final long startNanos = System.nanoTime();
        final List<Deployment> chain = catalog.chain(call.model());
        final long prompt = PromptEstimate.tokens(call);
        final int output = budgets.outputTokensFor(call);
        long cost = 0;
        for (Deployment d : chain) {
            cost = Math.max(cost, d.costMicros(prompt, output));
        }
        final Budgets.Reservation reservation = budgets.reserve(call.tenant(), prompt + output, cost);
        final ChatCall capped = reservation.limited() ? call.withMaxTokens(output) : call;
        boolean settled = false;
        try {
            final RoutedCompletion routed = route(capped, chain, deadline, startNanos, attempt, reservation);
            settled = true;
            return routed;
        } finally {
            if (!settled) {
                budgets.release(reservation);
            }
        }
    }

    private RoutedCompletion route(ChatCall call, List<Deployment> chain, Instant deadline, long startNanos,
                                   Call attempt, Budgets.Reservation reservation) {
        budget.deposit();
        final List<Attempt> attempts = new ArrayList<>();
        boolean midstream = false;
        long providerNanos = 0;
        for (Deployment deployment : chain) {
            final Instant cooled = health.cooldownUntil(deployment.name());
            if (cooled != null) {
                attempts.add(new Attempt(deployment.name(), "UNAVAILABLE", "cooled down until " + cooled, 0));
                continue;
            }
            if (!Instant.now().isBefore(deadline)) {
                throw DomainException.of(ErrorCode.ERROR_CODE_TIMEOUT, "deadline exceeded before "
                                           + deployment.name() + " could be tried", Map.of("deployment", deployment.name()));
            }
            final AtomicBoolean started = new AtomicBoolean();
            final AtomicInteger tries = new AtomicInteger();
            final long attemptStart = System.nanoTime();
            ProviderFailure failure;
            try {
                final Completion completion = retryOf(deployment).executeSupplier(() -> {
                    try {
                        tries.incrementAndGet();
                        return attempt.run(call, deployment, started);
                    } catch (ProviderFailure f) {
                        if (started.get()) {
                            // Tokens already reached the caller: this deployment is never retried.
                            throw new MidstreamBreak(f);
                        }
                        // Only a server error is retried, and only while the shared budget has a retry to give.
                        if (f.kind() == ProviderFailure.Kind.SERVER_ERROR && tries.get() < maxAttempts
                            && budget.tryWithdraw()) {
                            throw new Retryable(f);
                        }
                        throw f;
                    }
                });
                providerNanos += System.nanoTime() - attemptStart;
                health.succeeded(deployment.name());
                attempts.add(new Attempt(deployment.name(), "", "", (System.nanoTime() - attemptStart) / 1_000_000));
                return account(call, deployment, completion, attempts, startNanos, providerNanos, midstream,
                               reservation);
            } catch (ProviderFailure f) {
                failure = f;
            } catch (MidstreamBreak b) {
                failure = b.failure;
            }
            providerNanos += System.nanoTime() - attemptStart;
            health.failed(deployment.name(), failure);
            attempts.add(new Attempt(deployment.name(), codeOf(failure), failure.getMessage(),
                                     (System.nanoTime() - attemptStart) / 1_000_000));
            if (!failure.kind().fallover()) {
                throw clientError(deployment, failure);
            }
            if (started.get()) {
                if (!call.allowMidstreamFallover()) {
                    throw DomainException.of(
                            ErrorCode.ERROR_CODE_UNAVAILABLE,
                            "the stream from " + deployment.name() + " broke after its first token ("
                            + failure.getMessage() + "); the answer is incomplete",
                            Map.of("deployment", deployment.name(), "stream_broken", "true"));
                }
                midstream = true;
            }
        }
        throw DomainException.of(ErrorCode.ERROR_CODE_UNAVAILABLE,
                                   "no deployment could answer for " + catalog.aliasOf(call.model()) + ": " + summary(attempts),
                                   Map.of("model", catalog.aliasOf(call.model()), "attempts", String.valueOf(attempts.size())));
    }

    private RoutedCompletion account(ChatCall call, Deployment deployment, Completion completion,
                                     List<Attempt> attempts, long startNanos, long providerNanos, boolean midstream,
                                     Budgets.Reservation reservation) {
        final long cost = deployment.costMicros(completion.promptTokens(), completion.completionTokens());
        final long latencyMs = (System.nanoTime() - startNanos) / 1_000_000;
        budgets.settle(reservation, new UsageRecord(System.currentTimeMillis(), call.tenant(), call.principal(),
                                                    catalog.aliasOf(call.model()), deployment.name(),
                                                    deployment.provider(), completion.promptTokens(),
                                                    completion.completionTokens(), cost, latencyMs));
        final long overheadMicros = Math.max(0, (System.nanoTime() - startNanos - providerNanos) / 1_000);
        return new RoutedCompletion(completion, deployment, attempts, latencyMs, cost, midstream, overheadMicros,
                                    false);
    }

    private Retry retryOf(Deployment deployment) {
        return retries.computeIfAbsent(deployment.name(), name -> Retry.of(name, retryConfig));
    }

    private static DomainException clientError(Deployment deployment, ProviderFailure failure) {
        final ErrorCode code = failure.kind() == ProviderFailure.Kind.REFUSED ? ErrorCode.ERROR_CODE_CONFLICT
                                                                              : ErrorCode.ERROR_CODE_INVALID_ARGUMENT;
        return DomainException.of(code, deployment.name() + " rejected the request: " + failure.getMessage(),
                                    Map.of("deployment", deployment.name(), "provider_reason", failure.getMessage()));
    }

    private static String codeOf(ProviderFailure failure) {
        return switch (failure.kind()) {
            case TIMEOUT -> "TIMEOUT";
            case RATE_LIMITED -> "RATE_LIMITED";
            case BAD_REQUEST -> "INVALID_ARGUMENT";
            case REFUSED -> "CONFLICT";
            case UNREACHABLE, SERVER_ERROR, MISCONFIGURED -> "UNAVAILABLE";
        };
    }

    private static String summary(List<Attempt> attempts) {
        final StringBuilder text = new StringBuilder();
        for (Attempt a : attempts) {
            if (!text.isEmpty()) {
                text.append("; ");
            }
            text.append(a.deployment()).append(": ").append(a.errorMessage());
        }
        return text.toString();
    }

    private static final class MidstreamBreak extends RuntimeException {
        final ProviderFailure failure;

        MidstreamBreak(ProviderFailure failure) {
            super(failure.getMessage(), failure, false, false);
            this.failure = failure;
        }
    }

    /** A failure that resilience4j retries; never thrown by the last try, and the budget already paid for it. */
    private static final class Retryable extends RuntimeException {
        final ProviderFailure failure;

        Retryable(ProviderFailure failure) {
            super(failure.getMessage(), failure, false, false);
            this.failure = failure;
        }
    }

    /** One try of a provider with the call as routed. */
    @FunctionalInterface
    private interface Call {
        Completion run(ChatCall call, Deployment deployment, AtomicBoolean started);
    }
}

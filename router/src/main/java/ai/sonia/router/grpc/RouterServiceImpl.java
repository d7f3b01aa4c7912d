package ai.sonia.router.grpc;

import static ai.sonia.runtime.Unary.reply;

import java.time.Duration;
import java.time.Instant;

import com.google.protobuf.Timestamp;

import com.linecorp.armeria.server.ServiceRequestContext;

import ai.sonia.common.v1.TokenUsage;
import ai.sonia.router.domain.Attempt;
import ai.sonia.router.domain.BudgetState;
import ai.sonia.router.domain.ModelListing;
import ai.sonia.router.domain.RoutedCompletion;
import ai.sonia.router.domain.Router;
import ai.sonia.router.domain.UsageForecaster;
import ai.sonia.router.domain.UsageReports;
import ai.sonia.router.domain.UsageScope;
import ai.sonia.router.domain.UsageSums;
import ai.sonia.router.embed.Embedder;
import ai.sonia.router.v1.ChatRequest;
import ai.sonia.router.v1.ChatResponse;
import ai.sonia.router.v1.EmbedRequest;
import ai.sonia.router.v1.EmbedResponse;
import ai.sonia.router.v1.Embedding;
import ai.sonia.router.v1.ForecastBasis;
import ai.sonia.router.v1.ForecastUsageRequest;
import ai.sonia.router.v1.ForecastUsageResponse;
import ai.sonia.router.v1.GetBudgetRequest;
import ai.sonia.router.v1.GetBudgetResponse;
import ai.sonia.router.v1.GetUsageRequest;
import ai.sonia.router.v1.GetUsageResponse;
import ai.sonia.router.v1.ListModelsRequest;
import ai.sonia.router.v1.ListModelsResponse;
import ai.sonia.router.v1.Model;
import ai.sonia.router.v1.ModelCost;
import ai.sonia.router.v1.RouterServiceGrpc;
import ai.sonia.router.v1.StreamChatRequest;
import ai.sonia.router.v1.StreamChatResponse;
import ai.sonia.router.v1.UsageRow;
import ai.sonia.runtime.auth.Principal;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/**
 * The router's gRPC API: proto to domain and back, with the caller's credential; no routing, budget or usage
 * logic here.
 */
public final class RouterServiceImpl extends RouterServiceGrpc.RouterServiceImplBase {

    /** The response trailer that carries the router's own share of a chat's latency. */
    public static final String OVERHEAD_TRAILER = "x-router-overhead-us";
    private static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(30);

    private final Router router;
    private final Embedder embedder;
    private final UsageReports usage;
    private final ModelListing models;

    public RouterServiceImpl(Router router, Embedder embedder, UsageReports usage, ModelListing models) {
        this.router = router;
        this.embedder = embedder;
        this.usage = usage;
        this.models = models;
    }

    @Override
    public void chat(ChatRequest request, StreamObserver<ChatResponse> responses) {
        final RoutedCompletion routed = router.chat(ChatRequests.toCall(request), deadline());
        reportOverhead(routed);
        reply(responses, toResponse(routed));
    }

    /**
     * Also served as Server-Sent Events at the contract's {@code POST /v1/chat:stream} (the runtime's
     * {@code SoniaServer.Builder#serverSentEvents}), through this same method.
     */
    @Override
    public void streamChat(StreamChatRequest request, StreamObserver<StreamChatResponse> responses) {
        final ServerCallStreamObserver<StreamChatResponse> call = (ServerCallStreamObserver<StreamChatResponse>) responses;
        final RoutedCompletion routed = router.stream(ChatRequests.toCall(request), deadline(), delta -> {
            if (call.isCancelled()) {
                // Thrown into the provider's stream, which stops its call at the next token.
                throw Status.CANCELLED.withDescription("cancelled by the caller").asRuntimeException();
            }
            call.onNext(StreamChatResponse.newBuilder().setDelta(delta).build());
        });
        reportOverhead(routed);
        reply(call, StreamChatResponse.newBuilder().setFinal(toResponse(routed)).build());
    }

    @Override
    public void listModels(ListModelsRequest request, StreamObserver<ListModelsResponse> responses) {
        final ModelListing.Page page = models.page(request.getPageSize(), request.getPageToken());
        final ListModelsResponse.Builder out = ListModelsResponse.newBuilder()
                                                                 .setNextPageToken(page.nextPageToken());
        page.entries().forEach(e -> out.addModels(toModel(e)));
        reply(responses, out.build());
    }

    @Override
    public void embed(EmbedRequest request, StreamObserver<EmbedResponse> responses) {
        Principal.current().tenantFor(request.getCaller().getTenant());
        final Embedder.Result result = embedder.embed(request.getInputsList(), request.getModel());
        final EmbedResponse.Builder out = EmbedResponse.newBuilder().setModel(result.model());
        for (float[] vector : result.vectors()) {
            final Embedding.Builder e = Embedding.newBuilder();
            for (float v : vector) {
                e.addValues(v);
            }
            out.addEmbeddings(e);
        }
        out.setDimensions(result.vectors().isEmpty() ? 0 : result.vectors().get(0).length);
        reply(responses, out.build());
    }

    @Override
    public void getUsage(GetUsageRequest request, StreamObserver<GetUsageResponse> responses) {
        final UsageReports.Page page = usage.sums(usageScope(request.getTenant()), request.getStartDay(),
                                                  request.getEndDay(), request.getPageSize(), request.getPageToken());
        final GetUsageResponse.Builder out = GetUsageResponse.newBuilder().setNextPageToken(page.nextPageToken());
        page.sums().rows().forEach(r -> out.addRows(toRow(r)));
        out.setTotal(toRow(page.sums().total()));
        reply(responses, out.build());
    }

    @Override
    public void forecastUsage(ForecastUsageRequest request, StreamObserver<ForecastUsageResponse> responses) {
        final UsageForecaster.Forecast f = usage.forecast(usageScope(request.getTenant()), request.getWindowHours(),
                                                          request.getHorizonDays(), request.getHorizonHours());
        final UsageForecaster.Basis b = f.basis();
        final ForecastUsageResponse.Builder out =
                ForecastUsageResponse.newBuilder()
                                     .setProjected(tokenUsage(f.promptTokens(), f.completionTokens(), f.costMicros()))
                                     .setHorizonDays((f.horizonHours() + 23) / 24)
                                     .setHorizonHours(f.horizonHours())
                                     .setBasisDays(b.days())
                                     .setMethod(UsageForecaster.METHOD)
                                     .setConfidence(f.confidence())
                                     .setProjectedCost(f.cost())
                                     .setCurrency(UsageForecaster.CURRENCY)
                                     .setBasis(ForecastBasis.newBuilder()
                                                            .setWindowHours(b.windowHours())
                                                            .setPoints(b.points())
                                                            .setHoursWithUsage(b.hoursWithUsage())
                                                            .setTokens(b.tokens())
                                                            .setCostMicros(b.costMicros())
                                                            .setMeanTokensPerHour(b.meanTokensPerHour())
                                                            .setStddevTokensPerHour(b.stddevTokensPerHour())
                                                            .setSummary(b.summary()));
        f.modelCosts().forEach(c -> out.addModelCosts(
                ModelCost.newBuilder().setModel(c.deployment()).setCostMicros(c.costMicros())));
        reply(responses, out.build());
    }

    @Override
    public void getBudget(GetBudgetRequest request, StreamObserver<GetBudgetResponse> responses) {
        final BudgetState b = router.budgets().state(Principal.current().tenantFor(request.getTenant()));
        reply(responses, GetBudgetResponse.newBuilder()
                                          .setTenant(b.tenant())
                                          .setPeriod(b.period().toString())
                                          .setLimitTokens(b.limits().tokens())
                                          .setLimitCostMicros(b.limits().costMicros())
                                          .setSpentTokens(b.spentTokens())
                                          .setSpentCostMicros(b.spentCostMicros())
                                          .setReservedTokens(b.reservedTokens())
                                          .setReservedCostMicros(b.reservedCostMicros())
                                          .setRemainingTokens(b.remainingTokens())
                                          .setRemainingCostMicros(b.remainingCostMicros())
                                          .build());
    }

    /**
     * The ledger rows the caller may read: a user (or user-role API key) its own requests, an admin its whole
     * tenant, a service acting for itself the tenant it names or, naming none, every tenant.
     */
    private static UsageScope usageScope(String requestedTenant) {
        final Principal principal = Principal.current();
        if (principal.isService()) {
            return new UsageScope(requestedTenant, "");
        }
        final String tenant = principal.tenantFor(requestedTenant);
        return new UsageScope(tenant, principal.isAdmin() ? "" : principal.audit());
    }

    private static Instant deadline() {
        final ServiceRequestContext ctx = ServiceRequestContext.currentOrNull();
        final long timeoutMillis = ctx == null ? 0 : ctx.requestTimeoutMillis();
        return Instant.now().plus(timeoutMillis > 0 ? Duration.ofMillis(timeoutMillis) : DEFAULT_DEADLINE);
    }

    private static void reportOverhead(RoutedCompletion routed) {
        final ServiceRequestContext ctx = ServiceRequestContext.currentOrNull();
        if (ctx != null) {
            ctx.mutateAdditionalResponseTrailers(
                    t -> t.add(OVERHEAD_TRAILER, String.valueOf(routed.routerOverheadMicros())));
        }
    }

    private static ChatResponse toResponse(RoutedCompletion routed) {
        final ChatResponse.Builder out =
                ChatResponse.newBuilder()
                            .setContent(routed.completion().content())
                            .addAllToolCalls(routed.completion().toolCalls())
                            .setFinishReason(routed.completion().finishReason())
                            .setModel(routed.completion().model())
                            .setDeployment(routed.deployment().name())
                            .setProvider(routed.deployment().provider())
                            .setUsage(tokenUsage(routed.completion().promptTokens(), routed.completion().completionTokens(),
                                            routed.costMicros()))
                            .setLatencyMs(routed.latencyMs())
                            .setMidstreamFallover(routed.midstreamFallover())
                            .setRouterOverheadMicros(routed.routerOverheadMicros())
                            .setCached(routed.cached());
        for (Attempt a : routed.attempts()) {
            out.addAttempts(ai.sonia.router.v1.Attempt.newBuilder().setDeployment(a.deployment())
                                                      .setErrorCode(a.errorCode()).setErrorMessage(a.errorMessage())
                                                      .setDurationMs(a.durationMs()));
        }
        return out.build();
    }

    private static Model toModel(ModelListing.Entry e) {
        final Model.Builder model = Model.newBuilder().setName(e.name()).setProvider(e.provider())
                                         .setProviderModel(e.providerModel()).addAllAliases(e.aliases())
                                         .setLive(e.live()).setHealthy(e.healthy())
                                         .setInputPriceMicrosPerMtok(e.inputPrice())
                                         .setOutputPriceMicrosPerMtok(e.outputPrice());
        if (e.cooldownUntil() != null) {
            model.setCooldownUntil(Timestamp.newBuilder().setSeconds(e.cooldownUntil().getEpochSecond())
                                            .setNanos(e.cooldownUntil().getNano()));
        }
        return model.build();
    }

    private static UsageRow toRow(UsageSums.Row r) {
        return UsageRow.newBuilder().setTenant(r.tenant()).setModel(r.model()).setDay(r.day())
                       .setRequests(r.requests())
                       .setUsage(tokenUsage(r.promptTokens(), r.completionTokens(), r.costMicros())).build();
    }

    private static TokenUsage tokenUsage(long prompt, long completion, long cost) {
        return TokenUsage.newBuilder().setPromptTokens(prompt).setCompletionTokens(completion)
                         .setTotalTokens(prompt + completion).setCostMicros(cost).build();
    }
}

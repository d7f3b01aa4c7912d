package ai.sonia.router.grpc;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.List;

import com.google.protobuf.Timestamp;

import com.linecorp.armeria.server.ServiceRequestContext;

import ai.sonia.common.v1.TokenUsage;
import ai.sonia.router.domain.Attempt;
import ai.sonia.router.domain.BudgetState;
import ai.sonia.router.domain.InvalidFieldException;
import ai.sonia.router.domain.ModelListing;
import ai.sonia.router.domain.RoutedCompletion;
import ai.sonia.router.domain.Router;
import ai.sonia.router.domain.UsageForecaster;
import ai.sonia.router.domain.UsageSums;
import ai.sonia.router.embed.Embedder;
import ai.sonia.router.store.SqliteLedger;
import ai.sonia.router.v1.ChatRequest;
import ai.sonia.router.v1.ChatResponse;
import ai.sonia.router.v1.EmbedRequest;
import ai.sonia.router.v1.EmbedResponse;
import ai.sonia.router.v1.Embedding;
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
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/** The router's gRPC API: validates, calls the domain, converts; no routing logic here. */
public final class RouterServiceImpl extends RouterServiceGrpc.RouterServiceImplBase {

    /** The response trailer that carries the router's own share of a chat's latency. */
    public static final String OVERHEAD_TRAILER = "x-router-overhead-us";
    private static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(30);
    private static final int DEFAULT_PAGE_SIZE = 100;
    private static final int DEFAULT_HORIZON_DAYS = 30;
    private static final int MAX_HORIZON_DAYS = 366;

    private final Router router;
    private final Embedder embedder;
    private final SqliteLedger ledger;
    private final ModelListing models;
    private final UsageForecaster forecaster = new UsageForecaster();

    public RouterServiceImpl(Router router, Embedder embedder, SqliteLedger ledger, ModelListing models) {
        this.router = router;
        this.embedder = embedder;
        this.ledger = ledger;
        this.models = models;
    }

    @Override
    public void chat(ChatRequest request, StreamObserver<ChatResponse> responses) {
        try {
            final RoutedCompletion routed = router.chat(ChatRequests.toCall(request), deadline());
            reportOverhead(routed);
            responses.onNext(toResponse(routed));
            responses.onCompleted();
        } catch (RuntimeException e) {
            responses.onError(GrpcErrors.toStatus(e));
        }
    }

    @Override
    public void streamChat(StreamChatRequest request, StreamObserver<StreamChatResponse> responses) {
        final ServerCallStreamObserver<StreamChatResponse> call = (ServerCallStreamObserver<StreamChatResponse>) responses;
        try {
            final RoutedCompletion routed = router.stream(ChatRequests.toCall(request), deadline(), delta -> {
                if (!call.isCancelled()) {
                    call.onNext(StreamChatResponse.newBuilder().setDelta(delta).build());
                }
            });
            reportOverhead(routed);
            call.onNext(StreamChatResponse.newBuilder().setFinal(toResponse(routed)).build());
            call.onCompleted();
        } catch (RuntimeException e) {
            call.onError(GrpcErrors.toStatus(e));
        }
    }

    @Override
    public void listModels(ListModelsRequest request, StreamObserver<ListModelsResponse> responses) {
        try {
            if (request.getPageSize() < 0) {
                throw new InvalidFieldException("page_size", request.getPageSize() + " (expected: >= 0)");
            }
            final int size = request.getPageSize() == 0 ? DEFAULT_PAGE_SIZE : request.getPageSize();
            final int offset = offset(request.getPageToken());
            final List<ModelListing.Entry> all = models.list();
            final ListModelsResponse.Builder out = ListModelsResponse.newBuilder();
            all.stream().skip(offset).limit(size).forEach(e -> out.addModels(toModel(e)));
            if (offset + size < all.size()) {
                out.setNextPageToken(String.valueOf(offset + size));
            }
            responses.onNext(out.build());
            responses.onCompleted();
        } catch (RuntimeException e) {
            responses.onError(GrpcErrors.toStatus(e));
        }
    }

    @Override
    public void embed(EmbedRequest request, StreamObserver<EmbedResponse> responses) {
        try {
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
            responses.onNext(out.build());
            responses.onCompleted();
        } catch (RuntimeException e) {
            responses.onError(GrpcErrors.toStatus(e));
        }
    }

    @Override
    public void getUsage(GetUsageRequest request, StreamObserver<GetUsageResponse> responses) {
        try {
            final String start = day("start_day", request.getStartDay());
            final String end = day("end_day", request.getEndDay());
            if (!start.isEmpty() && !end.isEmpty() && start.compareTo(end) > 0) {
                throw new InvalidFieldException("end_day", end + " is before start_day " + start);
            }
            final UsageSums sums = ledger.sums(usageScope(request.getTenant()), start, end);
            final GetUsageResponse.Builder out = GetUsageResponse.newBuilder();
            sums.rows().forEach(r -> out.addRows(toRow(r)));
            out.setTotal(toRow(sums.total()));
            responses.onNext(out.build());
            responses.onCompleted();
        } catch (RuntimeException e) {
            responses.onError(GrpcErrors.toStatus(e));
        }
    }

    @Override
    public void forecastUsage(ForecastUsageRequest request, StreamObserver<ForecastUsageResponse> responses) {
        try {
            final SqliteLedger.Scope scope = usageScope(request.getTenant());
            final int horizon = request.getHorizonDays() == 0 ? DEFAULT_HORIZON_DAYS : request.getHorizonDays();
            if (horizon < 0 || horizon > MAX_HORIZON_DAYS) {
                throw new InvalidFieldException("horizon_days", horizon + " (expected: 0.." + MAX_HORIZON_DAYS + ")");
            }
            final LocalDate today = LocalDate.now(ZoneOffset.UTC);
            final UsageForecaster.Forecast f = forecaster.forecast(
                    ledger.dailyTotals(scope, UsageForecaster.windowStart(today).toString()), today,
                    horizon, router.catalog().deployments());
            final ForecastUsageResponse.Builder out =
                    ForecastUsageResponse.newBuilder()
                                         .setProjected(usage(f.promptTokens(), f.completionTokens(), f.costMicros()))
                                         .setHorizonDays(f.horizonDays())
                                         .setBasisDays(f.basisDays())
                                         .setMethod(UsageForecaster.METHOD)
                                         .setConfidence(f.confidence());
            f.modelCosts().forEach(c -> out.addModelCosts(
                    ModelCost.newBuilder().setModel(c.deployment()).setCostMicros(c.costMicros())));
            responses.onNext(out.build());
            responses.onCompleted();
        } catch (RuntimeException e) {
            responses.onError(GrpcErrors.toStatus(e));
        }
    }

    @Override
    public void getBudget(GetBudgetRequest request, StreamObserver<GetBudgetResponse> responses) {
        try {
            final BudgetState b = router.budgets().state(Principal.current().tenantFor(request.getTenant()));
            responses.onNext(GetBudgetResponse.newBuilder()
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
            responses.onCompleted();
        } catch (RuntimeException e) {
            responses.onError(GrpcErrors.toStatus(e));
        }
    }

    /**
     * The ledger rows the caller may read: a user (or user-role API key) its own requests, an admin its whole
     * tenant, a service acting for itself the tenant it names or, naming none, every tenant.
     */
    private static SqliteLedger.Scope usageScope(String requestedTenant) {
        final Principal principal = Principal.current();
        if (principal.isService()) {
            return new SqliteLedger.Scope(requestedTenant, "");
        }
        final String tenant = principal.tenantFor(requestedTenant);
        return new SqliteLedger.Scope(tenant, principal.isAdmin() ? "" : principal.audit());
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
                            .setUsage(usage(routed.completion().promptTokens(), routed.completion().completionTokens(),
                                            routed.costMicros()))
                            .setLatencyMs(routed.latencyMs())
                            .setMidstreamFallover(routed.midstreamFallover())
                            .setRouterOverheadMicros(routed.routerOverheadMicros());
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
                       .setUsage(usage(r.promptTokens(), r.completionTokens(), r.costMicros())).build();
    }

    private static TokenUsage usage(long prompt, long completion, long cost) {
        return TokenUsage.newBuilder().setPromptTokens(prompt).setCompletionTokens(completion)
                         .setTotalTokens(prompt + completion).setCostMicros(cost).build();
    }

    private static String day(String field, String value) {
        if (value.isEmpty()) {
            return value;
        }
        try {
            return LocalDate.parse(value).toString();
        } catch (DateTimeParseException e) {
            throw new InvalidFieldException(field, value + " (expected: YYYY-MM-DD)");
        }
    }

    private static int offset(String token) {
        if (token.isEmpty()) {
            return 0;
        }
        try {
            final int offset = Integer.parseInt(token);
            if (offset < 0) {
                throw new NumberFormatException();
            }
            return offset;
        } catch (NumberFormatException e) {
            throw new InvalidFieldException("page_token", "not a token this server issued");
        }
    }
}

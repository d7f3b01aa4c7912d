package ai.sonia.evaos.grpc;

import static ai.sonia.runtime.Unary.reply;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import com.google.protobuf.util.Durations;

import com.linecorp.armeria.server.ServiceRequestContext;

import ai.sonia.common.v1.DependencyStatus;
import ai.sonia.common.v1.ErrorCode;
import ai.sonia.evaos.domain.ApprovalEvents;
import ai.sonia.evaos.domain.ApprovalStore;
import ai.sonia.evaos.domain.Approvals;
import ai.sonia.evaos.domain.Redaction;
import ai.sonia.evaos.domain.Training;
import ai.sonia.evaos.v1.Approval;
import ai.sonia.evaos.v1.ApprovalChange;
import ai.sonia.evaos.v1.ApprovalState;
import ai.sonia.evaos.v1.AuthorizeActionRequest;
import ai.sonia.evaos.v1.AuthorizeActionResponse;
import ai.sonia.evaos.v1.DecideApprovalRequest;
import ai.sonia.evaos.v1.Decision;
import ai.sonia.evaos.v1.DisableTrainingRequest;
import ai.sonia.evaos.v1.EnableTrainingRequest;
import ai.sonia.evaos.v1.EvaOsServiceGrpc;
import ai.sonia.evaos.v1.GetApprovalRequest;
import ai.sonia.evaos.v1.GetStackHealthRequest;
import ai.sonia.evaos.v1.GetStackHealthResponse;
import ai.sonia.evaos.v1.GetTrainingStatusRequest;
import ai.sonia.evaos.v1.ListApprovalsRequest;
import ai.sonia.evaos.v1.ListApprovalsResponse;
import ai.sonia.evaos.v1.ListDecisionsRequest;
import ai.sonia.evaos.v1.ListDecisionsResponse;
import ai.sonia.evaos.v1.TrainingStatus;
import ai.sonia.evaos.v1.WatchApprovalsRequest;
import ai.sonia.evaos.v1.WatchApprovalsResponse;
import ai.sonia.runtime.Errors;
import ai.sonia.runtime.auth.CredentialWatch;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.auth.StreamSlots;
import ai.sonia.runtime.errors.DomainException;
import ai.sonia.runtime.paging.PageTokens;
import ai.sonia.runtime.status.DependencyProbe;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/**
 * The evaos gRPC API: a thin adapter over {@link Approvals} and {@link Training}, whose refusals the runtime's exception handler
 * maps. It masks the secrets of every approval it sends ({@link Redaction}: the stored arguments and the hash
 * stay exact) and caps the watches each principal holds.
 */
public final class EvaOsServiceImpl extends EvaOsServiceGrpc.EvaOsServiceImplBase {

    private static final int DEFAULT_PAGE = 50;
    private static final int MAX_PAGE = 500;
    private static final int DEFAULT_DECISIONS_PAGE = 100;
    private static final int MAX_DECISIONS_PAGE = 1000;
    private static final int MAX_REQUEST_ID = 128;

    private final Approvals approvals;
    private final Training training;
    private final ApprovalEvents events;
    private final DependencyProbe stack;
    private final StreamSlots watches;

    public EvaOsServiceImpl(Approvals approvals, Training training, ApprovalEvents events, DependencyProbe stack,
                            StreamSlots watches) {
        this.approvals = approvals;
        this.training = training;
        this.events = events;
        this.stack = stack;
        this.watches = watches;
    }

    @Override
    public void authorizeAction(AuthorizeActionRequest request,
                                StreamObserver<AuthorizeActionResponse> responseObserver) {
        if (request.getToolName().isEmpty()) {
            throw DomainException.invalidArgument("tool_name", "is required");
        }
        if (request.getRequestId().length() > MAX_REQUEST_ID) {
            throw DomainException.invalidArgument("request_id", "at most " + MAX_REQUEST_ID + " characters");
        }
        // The request's principal field is ignored: who asks is who authenticated.
        final Principal principal = Principal.current();
        final AuthorizeActionResponse decision = approvals.authorize(principal, new Approvals.Action(
                request.getToolName(), request.getArguments(), request.getWorkingDirectory(),
                request.getSessionId(), request.getExecute(), request.getApprovalId(), request.getRequestId()));
        final AuthorizeActionResponse.Builder shown = decision.toBuilder().setReason(Redaction.text(decision.getReason()));
        if (decision.hasApproval()) {
            shown.setApproval(Redaction.approval(decision.getApproval()));
        }
        reply(responseObserver, shown.build());
    }

    @Override
    public void listApprovals(ListApprovalsRequest request, StreamObserver<ListApprovalsResponse> responseObserver) {
        final int size = PageTokens.pageSize(request.getPageSize(), DEFAULT_PAGE, MAX_PAGE);
        if (request.getState() == ApprovalState.UNRECOGNIZED) {
            throw DomainException.invalidArgument("state", "unknown state");
        }
        final Principal principal = Principal.current();
        // What shapes the listing: who sees it (a token of another principal's listing is refused) and the state.
        final String query = "ListApprovals " + principal.audit() + " state=" + request.getStateValue();
        final List<String> after = PageTokens.after(request.getPageToken(), query).orElse(List.of());
        final ApprovalStore.Page<Approval> page = approvals.list(principal, request.getState(), after, size);
        final ListApprovalsResponse.Builder response = ListApprovalsResponse.newBuilder();
        page.items().forEach(a -> response.addApprovals(Redaction.approval(a)));
        if (!page.nextKey().isEmpty()) {
            response.setNextPageToken(PageTokens.next(query, page.nextKey()));
        }
        reply(responseObserver, response.build());
    }

    @Override
    public void getApproval(GetApprovalRequest request, StreamObserver<Approval> responseObserver) {
        if (request.getApprovalId().isEmpty()) {
            throw DomainException.invalidArgument("approval_id", "is required");
        }
        approvals.expireDue();
        final Principal principal = Principal.current();
        reply(responseObserver, Redaction.approval(approvals.get(principal, request.getApprovalId())));
    }

    @Override
    public void decideApproval(DecideApprovalRequest request, StreamObserver<Approval> responseObserver) {
        final Principal principal = Principal.current();
        reply(responseObserver, Redaction.approval(approvals.decide(
                principal, request.getApprovalId(), request.getApprove(), request.getGrantScope(),
                request.getPattern(), request.getTtlSeconds(), request.getReason())));
    }

    @Override
    public void watchApprovals(WatchApprovalsRequest request,
                               StreamObserver<WatchApprovalsResponse> responseObserver) {
        // Taken now: the events arrive on other threads, outside this request's context.
        final Principal principal = Principal.current();
        final Runnable slot = watches.tryAcquire(principal);
        if (slot == null) {
            throw DomainException.of(ErrorCode.ERROR_CODE_RATE_LIMITED,
                                     "too many approval watches: at most " + watches.max() + " at once per principal",
                                     Map.of("limit", String.valueOf(watches.max()),
                                            "setting", "services.evaos.approvals.maxStreamsPerPrincipal"));
        }
        // A watch lives as long as the watcher wants (the contract gives it no deadline).
        final ServiceRequestContext ctx = ServiceRequestContext.current();
        ctx.clearRequestTimeout();
        final ServerCallStreamObserver<WatchApprovalsResponse> observer =
                (ServerCallStreamObserver<WatchApprovalsResponse>) responseObserver;
        final Object lock = new Object();
        final boolean[] ended = new boolean[1]; // under lock
        final Runnable[] unsubscribe = {() -> {}};
        // Ends the watch with an error, once.
        final Consumer<StatusRuntimeException> end = error -> {
            unsubscribe[0].run();
            slot.run();
            synchronized (lock) {
                if (!ended[0] && !observer.isCancelled()) {
                    ended[0] = true;
                    observer.onError(error);
                }
            }
        };
        // Subscribe before the snapshot, so no change falls between the two. Should other replicas' changes be
        // missed (their engine out of reach), the watch ends UNAVAILABLE: its client watches anew, snapshot first.
        unsubscribe[0] = events.subscribe((approval, change) -> {
            // A grant running out is not news to someone watching only what waits for a decision.
            if (request.getPendingOnly() && change == ApprovalChange.APPROVAL_CHANGE_EXPIRED && approval.hasDecideTime()) {
                return;
            }
            if (!Approvals.visibleTo(principal, approval)) {
                return;
            }
            synchronized (lock) {
                if (!ended[0] && !observer.isCancelled()) {
                    observer.onNext(WatchApprovalsResponse.newBuilder().setApproval(Redaction.approval(approval))
                                                          .setChange(change).build());
                }
            }
        }, () -> end.accept(Errors.of("evaos.sonia.ai", ErrorCode.ERROR_CODE_UNAVAILABLE,
                                      "approval changes of other replicas may have been missed: watch again",
                                      Map.of("engine", "postgres"))));
        observer.setOnCancelHandler(() -> {
            unsubscribe[0].run();
            slot.run();
        });
        // The token was checked when the watch opened; one revoked since ends it with UNAUTHENTICATED.
        CredentialWatch.watch(ctx, () -> end.accept(CredentialWatch.revoked()));
        try {
            synchronized (lock) {
                for (Approval a : approvals.list(principal, ApprovalState.APPROVAL_STATE_PENDING, List.of(), MAX_PAGE).items()) {
                    observer.onNext(WatchApprovalsResponse.newBuilder().setApproval(Redaction.approval(a))
                                                          .setChange(ApprovalChange.APPROVAL_CHANGE_SNAPSHOT).build());
                }
            }
        } catch (RuntimeException e) {
            unsubscribe[0].run();
            slot.run();
            throw e;
        }
    }

    @Override
    public void listDecisions(ListDecisionsRequest request, StreamObserver<ListDecisionsResponse> responseObserver) {
        if (request.getPageSize() < 0 || request.getPageSize() > MAX_DECISIONS_PAGE) {
            throw DomainException.invalidArgument("page_size", request.getPageSize() + " (expected: 0.."
                                                               + MAX_DECISIONS_PAGE + ')');
        }
        final int size = request.getPageSize() == 0 ? DEFAULT_DECISIONS_PAGE : request.getPageSize();
        // The contract's cursor: any decision_id (the gateway's merged audit resumes from one mid-page).
        final String token = request.getPageToken();
        if (!token.isEmpty() && (!token.matches("\\d{1,18}") || Long.parseLong(token) <= 0)) {
            throw DomainException.invalidArgument("page_token", "not a decision_id or a token of this method");
        }
        final List<String> after = token.isEmpty() ? List.of() : List.of(token);
        final ApprovalStore.Page<Decision> page =
                approvals.decisions(Principal.current(), request.getTenant(), after, size);
        final ListDecisionsResponse.Builder response = ListDecisionsResponse.newBuilder();
        page.items().forEach(d -> response.addDecisions(d.toBuilder().setReason(Redaction.text(d.getReason()))));
        page.nextKey().forEach(response::setNextPageToken);
        reply(responseObserver, response.build());
    }

    @Override
    public void enableTraining(EnableTrainingRequest request, StreamObserver<TrainingStatus> responseObserver) {
        if (request.hasTtl() && !Durations.isValid(request.getTtl())) {
            throw DomainException.invalidArgument("ttl", "not a valid duration");
        }
        final java.time.Duration ttl = request.hasTtl() ? java.time.Duration.ofSeconds(
                request.getTtl().getSeconds(), request.getTtl().getNanos()) : null;
        reply(responseObserver, training.enable(Principal.current(), request.getTenant(), request.getReason(), ttl));
    }

    @Override
    public void disableTraining(DisableTrainingRequest request, StreamObserver<TrainingStatus> responseObserver) {
        reply(responseObserver, training.disable(Principal.current(), request.getTenant(), request.getReason()));
    }

    @Override
    public void getTrainingStatus(GetTrainingStatusRequest request, StreamObserver<TrainingStatus> responseObserver) {
        reply(responseObserver, training.status(Principal.current(), request.getTenant()));
    }

    @Override
    public void getStackHealth(GetStackHealthRequest request,
                               StreamObserver<GetStackHealthResponse> responseObserver) {
        final List<DependencyStatus> services = stack.probeAll().join();
        reply(responseObserver, GetStackHealthResponse.newBuilder()
                                                      .setOk(services.stream().allMatch(DependencyStatus::getOk))
                                                      .addAllServices(services).build());
    }
}

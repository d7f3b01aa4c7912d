package ai.sonia.gateway.grpc;

import ai.sonia.gateway.accounts.AuditLog;
import ai.sonia.evaos.v1.EvaOsServiceGrpc;
import ai.sonia.evaos.v1.ListDecisionsRequest;
import ai.sonia.gateway.v1.AuditServiceGrpc;
import ai.sonia.gateway.v1.ListAuditEventsRequest;
import ai.sonia.gateway.v1.ListAuditEventsResponse;
import ai.sonia.runtime.auth.Principal;
import io.grpc.stub.StreamObserver;

/** {@code /api/audit}: an adapter over {@link AuditLog}. */
public final class AuditServiceImpl extends AuditServiceGrpc.AuditServiceImplBase {

    private final AuditLog audit;
    private final AuditLog.Decisions decisions;

    /** {@code evaos}: where the approval decisions come from (asked for the admin reading the audit). */
    public AuditServiceImpl(AuditLog audit, EvaOsServiceGrpc.EvaOsServiceBlockingStub evaos) {
        this.audit = audit;
        decisions = (tenant, pageToken, pageSize) -> evaos.listDecisions(ListDecisionsRequest.newBuilder()
                                                                                             .setTenant(tenant)
                                                                                             .setPageToken(pageToken)
                                                                                             .setPageSize(pageSize)
                                                                                             .build());
    }

    @Override
    public void listAuditEvents(ListAuditEventsRequest request, StreamObserver<ListAuditEventsResponse> out) {
        out.onNext(audit.list(Principal.current(), request.getPageSize(), request.getPageToken(), decisions));
        out.onCompleted();
    }
}

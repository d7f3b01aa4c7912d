package ai.sonia.gateway.grpc;

import ai.sonia.gateway.accounts.AuditLog;
import ai.sonia.gateway.v1.AuditServiceGrpc;
import ai.sonia.gateway.v1.ListAuditEventsRequest;
import ai.sonia.gateway.v1.ListAuditEventsResponse;
import ai.sonia.runtime.auth.Principal;
import io.grpc.stub.StreamObserver;

/** {@code /api/audit}: an adapter over {@link AuditLog}. */
public final class AuditServiceImpl extends AuditServiceGrpc.AuditServiceImplBase {

    private final AuditLog audit;

    public AuditServiceImpl(AuditLog audit) {
        this.audit = audit;
    }

    @Override
    public void listAuditEvents(ListAuditEventsRequest request, StreamObserver<ListAuditEventsResponse> out) {
        out.onNext(audit.list(Principal.current(), request.getPageSize(), request.getPageToken()));
        out.onCompleted();
    }
}

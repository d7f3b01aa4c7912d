package ai.sonia.gateway.grpc;

import static ai.sonia.runtime.Unary.reply;

import java.util.Optional;

import ai.sonia.evaos.v1.EvaOsServiceGrpc;
import ai.sonia.evaos.v1.ListDecisionsRequest;
import ai.sonia.gateway.domain.AuditTrail;
import ai.sonia.gateway.v1.AuditServiceGrpc;
import ai.sonia.gateway.v1.ListAuditEventsRequest;
import ai.sonia.gateway.v1.ListAuditEventsResponse;
import ai.sonia.runtime.auth.Principal;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;

/** {@code /api/audit}: an adapter over {@link AuditTrail}. */
public final class AuditServiceImpl extends AuditServiceGrpc.AuditServiceImplBase {

    private final AuditTrail audit;
    private final AuditTrail.Decisions decisions;

    /** {@code evaos}: where the approval decisions come from (asked for the admin reading the audit). */
    public AuditServiceImpl(AuditTrail audit, EvaOsServiceGrpc.EvaOsServiceBlockingStub evaos) {
        this.audit = audit;
        decisions = (tenant, pageToken, pageSize) -> {
            try {
                return Optional.of(evaos.listDecisions(ListDecisionsRequest.newBuilder().setTenant(tenant)
                                                                           .setPageToken(pageToken)
                                                                           .setPageSize(pageSize).build()));
            } catch (StatusRuntimeException e) {
                final Status.Code code = e.getStatus().getCode();
                if (code != Status.Code.UNAVAILABLE && code != Status.Code.DEADLINE_EXCEEDED) {
                    throw e;
                }
                return Optional.empty(); // the audit is served degraded
            }
        };
    }

    @Override
    public void listAuditEvents(ListAuditEventsRequest request, StreamObserver<ListAuditEventsResponse> out) {
        reply(out, audit.list(Principal.current(), request.getPageSize(), request.getPageToken(), decisions));
    }
}

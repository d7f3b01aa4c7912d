package ai.sonia.openclaw.client;

import com.google.protobuf.Struct;

import ai.sonia.evaos.v1.AuthorizeActionRequest;
import ai.sonia.evaos.v1.AuthorizeActionResponse;
import ai.sonia.evaos.v1.EvaOsServiceGrpc.EvaOsServiceBlockingStub;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.auth.ServiceCredentialInterceptor;

/**
 * Asks EVA-OS whether exactly this call may run, as the call is about to run ({@code execute=true}, so
 * an approved ONCE grant is consumed). Nothing is trusted from the caller: the approval id it presents
 * is checked by EVA-OS against the hash of the tool, arguments and working directory.
 */
public final class EvaOsGate {

    private final EvaOsServiceBlockingStub evaos;

    public EvaOsGate(EvaOsServiceBlockingStub evaos) {
        this.evaos = evaos;
    }

    /**
     * EVA-OS's decision on an action of {@code principal} (whose tenant's approvals and grants apply: the
     * call's service credential acts for it); a failed call throws (fail closed).
     */
    public AuthorizeActionResponse authorize(Principal principal, String tool, Struct arguments,
                                             String workingDirectory, String sessionId, String approvalId) {
        return evaos.withOption(ServiceCredentialInterceptor.ACTING_FOR, principal)
                    .authorizeAction(AuthorizeActionRequest.newBuilder()
                                                           .setToolName(tool)
                                                           .setArguments(arguments)
                                                           .setWorkingDirectory(workingDirectory)
                                                           .setSessionId(sessionId)
                                                           .setApprovalId(approvalId)
                                                           .setExecute(true)
                                                           .build());
    }
}

package ai.sonia.openclaw.client;

import com.google.protobuf.Struct;

import ai.sonia.evaos.v1.AuthorizeActionRequest;
import ai.sonia.evaos.v1.AuthorizeActionResponse;
import ai.sonia.evaos.v1.EvaOsServiceGrpc.EvaOsServiceBlockingStub;

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

    /** EVA-OS's decision; a failed call throws (fail closed). */
    public AuthorizeActionResponse authorize(String tool, Struct arguments, String workingDirectory,
                                             String sessionId, String principal, String approvalId) {
        return evaos.authorizeAction(AuthorizeActionRequest.newBuilder()
                                                           .setToolName(tool)
                                                           .setArguments(arguments)
                                                           .setWorkingDirectory(workingDirectory)
                                                           .setSessionId(sessionId)
                                                           .setPrincipal(principal)
                                                           .setApprovalId(approvalId)
                                                           .setExecute(true)
                                                           .build());
    }
}

package ai.sonia.runtime.errors;

import java.util.Map;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.evaos.v1.AuthorizeActionResponse;
import ai.sonia.evaos.v1.Verdict;

/**
 * The one error for an action EVA-OS did not allow, wherever it is raised (the gateway's actions, OpenClaw's
 * tool calls): APPROVAL_REQUIRED with metadata {@code approval_id} while a person has to decide, otherwise
 * POLICY_DENIED; both with {@code rule}, {@code risk} and {@code action_hash}.
 */
public final class ActionRefusal {

    /** The refusal of an action whose verdict is not ALLOW. */
    public static DomainException of(AuthorizeActionResponse decision) {
        final Map<String, String> metadata = Map.of("rule", decision.getRule(), "risk", decision.getRisk().name(),
                                                    "action_hash", decision.getActionHash());
        if (decision.getVerdict() == Verdict.VERDICT_REQUIRE_APPROVAL) {
            return DomainException.of(ErrorCode.ERROR_CODE_APPROVAL_REQUIRED, "approval required: "
                                                                              + decision.getReason(), metadata)
                                  .with("approval_id", decision.getApproval().getApprovalId());
        }
        return DomainException.of(ErrorCode.ERROR_CODE_POLICY_DENIED, "denied by policy: " + decision.getReason(),
                                  metadata);
    }

    private ActionRefusal() {}
}

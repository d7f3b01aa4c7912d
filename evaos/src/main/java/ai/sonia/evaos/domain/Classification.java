package ai.sonia.evaos.domain;

import ai.sonia.evaos.v1.Verdict;
import ai.sonia.options.v1.RiskLevel;

/** The classifier's answer: a risk level, the rule that set it, and why. */
public record Classification(RiskLevel risk, String rule, String reason) {

    /** LOW runs, MEDIUM and HIGH wait for a person, CRITICAL and unknown are denied. */
    public Verdict verdict() {
        return switch (risk) {
            case RISK_LEVEL_LOW -> Verdict.VERDICT_ALLOW;
            case RISK_LEVEL_MEDIUM, RISK_LEVEL_HIGH -> Verdict.VERDICT_REQUIRE_APPROVAL;
            default -> Verdict.VERDICT_DENY;
        };
    }
}

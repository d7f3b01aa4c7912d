package ai.sonia.evaos.domain;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import ai.sonia.options.v1.RiskLevel;

/**
 * Who may decide approvals and how many watches a principal may hold, from {@code services.evaos.approvals}
 * of the config file:
 * <pre>{@code
 * "approvals": {
 *   "selfApprove": {"*": "NONE", "acme": "MEDIUM"},
 *   "maxStreamsPerPrincipal": 8
 * }
 * }</pre>
 * {@code selfApprove} names, per tenant ({@code "*"} for every tenant not named), the highest risk a plain
 * user may approve for themselves: {@code NONE} (the default: an admin decides every MEDIUM and HIGH
 * action), {@code MEDIUM} or {@code HIGH}. CRITICAL actions are denied and never wait for anyone. An admin
 * decides any approval of its tenant; a plain user may always refuse (withdraw) their own.
 * {@code maxStreamsPerPrincipal} caps the approval watches (gRPC streams) one principal holds at once.
 */
public record ApprovalPolicy(Map<String, RiskLevel> selfApprove, int maxStreamsPerPrincipal) {

    /** Admins decide every MEDIUM and HIGH approval; 8 watches per principal. */
    public static final ApprovalPolicy DEFAULT = new ApprovalPolicy(Map.of(), 8);

    private static final String ANY_TENANT = "*";

    public ApprovalPolicy {
        selfApprove = Map.copyOf(requireNonNull(selfApprove, "selfApprove"));
        if (maxStreamsPerPrincipal <= 0) {
            throw new IllegalArgumentException("services.evaos.approvals.maxStreamsPerPrincipal: "
                                               + maxStreamsPerPrincipal + " (expected: > 0)");
        }
    }

    /** The policy of {@code services.evaos.approvals}: per tenant the level's name, and the cap on watches. */
    public static ApprovalPolicy of(Map<String, String> selfApprove, int maxStreamsPerPrincipal) {
        final Map<String, RiskLevel> levels = new LinkedHashMap<>();
        selfApprove.forEach((tenant, level) -> levels.put(tenant, level(tenant, level)));
        return new ApprovalPolicy(levels, maxStreamsPerPrincipal);
    }

    /** The highest risk a plain user of {@code tenant} may approve for themselves. */
    public RiskLevel selfApproveLimit(String tenant) {
        return selfApprove.getOrDefault(tenant, selfApprove.getOrDefault(ANY_TENANT, RiskLevel.RISK_LEVEL_LOW));
    }

    /** Whether a plain user of {@code tenant} may approve their own action of {@code risk}. */
    public boolean maySelfApprove(String tenant, RiskLevel risk) {
        return risk.getNumber() <= selfApproveLimit(tenant).getNumber();
    }

    private static RiskLevel level(String tenant, String value) {
        return switch (value.toUpperCase(Locale.ROOT)) {
            case "NONE", "LOW" -> RiskLevel.RISK_LEVEL_LOW;
            case "MEDIUM" -> RiskLevel.RISK_LEVEL_MEDIUM;
            case "HIGH" -> RiskLevel.RISK_LEVEL_HIGH;
            default -> throw new IllegalArgumentException(
                    "services.evaos.approvals.selfApprove." + tenant + ": \"" + value
                    + "\" (expected: NONE, MEDIUM or HIGH)");
        };
    }
}

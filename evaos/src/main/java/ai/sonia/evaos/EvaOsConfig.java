package ai.sonia.evaos;

import java.time.Duration;
import java.util.Map;

import ai.sonia.evaos.domain.ApprovalPolicy;
import ai.sonia.evaos.domain.Approvals;
import ai.sonia.runtime.ConfigKey;

/** The {@code services.evaos} section of the stack config, each key declared once. */
@ConfigKey("Risk decisions and approvals.")
public record EvaOsConfig(
        @ConfigKey(value = "How long an approval waits.", def = "900") long pendingTtlSeconds,
        @ConfigKey(value = "How long a grant lasts.", def = "3600") long grantTtlSeconds,
        @ConfigKey(value = "How long a refusal is remembered.", def = "86400") long refusalTtlSeconds,
        @ConfigKey(value = "The longest TTL a decision may ask for.", def = "2592000") long maxTtlSeconds,
        @ConfigKey("Who may decide, and approval streams.") ApprovalKeys approvals) {

    /** {@code services.evaos.approvals}: see {@link ApprovalPolicy}. */
    public record ApprovalKeys(
            @ConfigKey(value = "Per tenant (\"*\" for every other): the highest risk a plain user may approve for"
                               + " themselves, NONE, MEDIUM or HIGH.", element = "NONE, MEDIUM or HIGH.")
            Map<String, String> selfApprove,
            @ConfigKey(value = "Approval watch streams one principal may hold at once.", def = "8")
            int maxStreamsPerPrincipal) {

        public ApprovalPolicy policy() {
            return ApprovalPolicy.of(selfApprove == null ? Map.of() : selfApprove, maxStreamsPerPrincipal);
        }
    }

    Approvals.Ttls ttls() {
        return new Approvals.Ttls(Duration.ofSeconds(pendingTtlSeconds), Duration.ofSeconds(grantTtlSeconds),
                                  Duration.ofSeconds(refusalTtlSeconds), Duration.ofSeconds(maxTtlSeconds));
    }
}

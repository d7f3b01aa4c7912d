package ai.sonia.evaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;

import ai.sonia.evaos.domain.ApprovalPolicy;
import ai.sonia.options.v1.RiskLevel;
import ai.sonia.runtime.StackConfig;

/** The approvals policy read from {@code services.evaos.approvals}: safe defaults, a clear refusal of typos. */
class ApprovalPolicyTest {

    private static final ObjectMapper mapper = new ObjectMapper();

    @Test
    void byDefaultNoUserApprovesTheirOwnMediumOrHigh() {
        final ApprovalPolicy policy = policy(MissingNode.getInstance());
        assertThat(policy.maySelfApprove("any", RiskLevel.RISK_LEVEL_MEDIUM)).isFalse();
        assertThat(policy.maySelfApprove("any", RiskLevel.RISK_LEVEL_HIGH)).isFalse();
        assertThat(policy.maxStreamsPerPrincipal()).isEqualTo(8);
    }

    @Test
    void aTenantEntryWinsOverTheWildcard() throws Exception {
        final ApprovalPolicy policy = policy(
                json("{\"selfApprove\":{\"*\":\"medium\",\"strict\":\"NONE\",\"lab\":\"HIGH\"}}"));
        assertThat(policy.maySelfApprove("other", RiskLevel.RISK_LEVEL_MEDIUM)).isTrue();
        assertThat(policy.maySelfApprove("other", RiskLevel.RISK_LEVEL_HIGH)).isFalse();
        assertThat(policy.maySelfApprove("strict", RiskLevel.RISK_LEVEL_MEDIUM)).isFalse();
        assertThat(policy.maySelfApprove("lab", RiskLevel.RISK_LEVEL_HIGH)).isTrue();
        assertThat(policy.maySelfApprove("lab", RiskLevel.RISK_LEVEL_CRITICAL)).isFalse();
    }

    @Test
    void anUnknownLevelOrABadCapStopsTheStartWithTheSettingNamed() {
        assertThatThrownBy(() -> policy(json("{\"selfApprove\":{\"acme\":\"CRITICAL\"}}")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("services.evaos.approvals.selfApprove.acme");
        assertThatThrownBy(() -> policy(json("{\"selfApprove\":\"MEDIUM\"}")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> policy(json("{\"maxStreamsPerPrincipal\":0}")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxStreamsPerPrincipal");
    }

    /** The policy a {@code services.evaos.approvals} section gives. */
    private static ApprovalPolicy policy(JsonNode approvals) {
        return StackConfig.bind("services.evaos.approvals", approvals, EvaOsConfig.ApprovalKeys.class).policy();
    }

    private static JsonNode json(String text) throws Exception {
        return mapper.readTree(text);
    }
}

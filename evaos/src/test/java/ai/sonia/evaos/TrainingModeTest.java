package ai.sonia.evaos;

import static ai.sonia.evaos.ApprovalFlowTest.argv;
import static ai.sonia.evaos.ApprovalFlowTest.code;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.google.protobuf.util.Durations;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;

import ai.sonia.common.v1.Role;
import ai.sonia.evaos.v1.AuthorizeActionRequest;
import ai.sonia.evaos.v1.DisableTrainingRequest;
import ai.sonia.evaos.v1.EnableTrainingRequest;
import ai.sonia.evaos.v1.EvaOsServiceGrpc;
import ai.sonia.evaos.v1.EvaOsServiceGrpc.EvaOsServiceBlockingStub;
import ai.sonia.evaos.v1.GetTrainingStatusRequest;
import ai.sonia.evaos.v1.ListApprovalsRequest;
import ai.sonia.evaos.v1.TrainingStatus;
import ai.sonia.evaos.v1.Verdict;
import ai.sonia.options.v1.RiskLevel;
import ai.sonia.runtime.Errors;
import ai.sonia.runtime.testing.MutableClock;
import ai.sonia.runtime.testing.Rest;
import ai.sonia.runtime.testing.SoniaServiceExtension;
import io.grpc.Status;

/**
 * Training mode over gRPC and REST (the contract's routes and the seed's): an admin of the tenant enables
 * and disables it, anyone of the tenant reads it, another tenant does neither; while it holds, actions above
 * LOW are refused with TRAINING_LOCKED and no approval is made, LOW ones run; it lifts at its TTL; /status
 * counts the locked tenants. Each test uses its own tenants, on one server whose clock the TTL test moves.
 */
class TrainingModeTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final MutableClock clock = new MutableClock();

    @RegisterExtension
    static final SoniaServiceExtension evaos =
            SoniaServiceExtension.of(new EvaOsModule()).factory(c -> new EvaOsModule().newServer(c, clock));

    private static EvaOsServiceBlockingStub as(String tenant, String user, Role role) {
        return evaos.stub(EvaOsServiceGrpc::newBlockingStub, evaos.token(tenant, user, role));
    }

    private static EnableTrainingRequest enable(String reason) {
        return EnableTrainingRequest.newBuilder().setReason(reason).build();
    }

    private static GetTrainingStatusRequest statusOf(String tenant) {
        return GetTrainingStatusRequest.newBuilder().setTenant(tenant).build();
    }

    private static JsonNode data(AggregatedHttpResponse response) throws Exception {
        final JsonNode body = JSON.readTree(response.contentUtf8());
        assertThat(body.path("ok").asBoolean()).as(response.contentUtf8()).isTrue();
        return body.path("data");
    }

    private static String errorCode(AggregatedHttpResponse response) throws Exception {
        return JSON.readTree(response.contentUtf8()).path("error").path("code").asText();
    }

    @Test
    void anAdminEnablesAndDisablesAUserReadsAndMayNotChangeIt() {
        final EvaOsServiceBlockingStub admin = as("acme", "root", Role.ROLE_ADMIN);
        final EvaOsServiceBlockingStub alice = as("acme", "alice", Role.ROLE_USER);
        final TrainingStatus on = admin.enableTraining(enable("nightly fine-tune"));
        assertThat(on.getTenant()).isEqualTo("acme");
        assertThat(on.getEnabled()).isTrue();
        assertThat(on.getReason()).isEqualTo("nightly fine-tune");
        assertThat(on.getEnabledBy()).isEqualTo("acme/root");
        assertThat(on.getExpiresAt().getSeconds() - on.getSince().getSeconds()).isEqualTo(86_400); // 24 h by default
        assertThat(alice.getTrainingStatus(statusOf("")).getEnabled()).isTrue();
        assertThat(alice.getTrainingStatus(statusOf("acme"))).isEqualTo(on);

        assertThatThrownBy(() -> alice.enableTraining(enable("me too")))
                .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.PERMISSION_DENIED));
        assertThatThrownBy(() -> alice.disableTraining(DisableTrainingRequest.getDefaultInstance()))
                .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.PERMISSION_DENIED));
        assertThat(alice.getTrainingStatus(statusOf("")).getEnabled()).isTrue();

        final TrainingStatus off = admin.disableTraining(DisableTrainingRequest.newBuilder().setReason("done").build());
        assertThat(off.getEnabled()).isFalse();
        assertThat(off.hasExpiresAt()).isFalse();
        assertThat(alice.getTrainingStatus(statusOf("")).getEnabled()).isFalse();
        // Disabling again changes nothing.
        assertThat(admin.disableTraining(DisableTrainingRequest.getDefaultInstance()).getEnabled()).isFalse();
    }

    @Test
    void anotherTenantNeitherReadsNorChangesIt() {
        as("initech", "root", Role.ROLE_ADMIN).enableTraining(enable("run 7"));
        final EvaOsServiceBlockingStub bob = as("umbrella", "bob", Role.ROLE_ADMIN);
        assertThatThrownBy(() -> bob.getTrainingStatus(statusOf("initech")))
                .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.PERMISSION_DENIED));
        assertThatThrownBy(() -> bob.disableTraining(DisableTrainingRequest.newBuilder().setTenant("initech").build()))
                .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.PERMISSION_DENIED));
        assertThatThrownBy(() -> bob.enableTraining(enable("x").toBuilder().setTenant("initech").build()))
                .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.PERMISSION_DENIED));
        assertThat(bob.getTrainingStatus(statusOf("")).getEnabled()).isFalse();
        assertThat(as("initech", "u", Role.ROLE_USER).getTrainingStatus(statusOf("")).getEnabledBy())
                .isEqualTo("initech/root");
    }

    @Test
    void aReasonIsRequiredAndTheTtlBounded() {
        final EvaOsServiceBlockingStub admin = as("hooli", "root", Role.ROLE_ADMIN);
        assertThatThrownBy(() -> admin.enableTraining(enable(" ")))
                .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.INVALID_ARGUMENT));
        assertThatThrownBy(() -> admin.enableTraining(enable("r").toBuilder().setTtl(Durations.fromDays(8)).build()))
                .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.INVALID_ARGUMENT));
        assertThatThrownBy(() -> admin.enableTraining(enable("r").toBuilder().setTtl(Durations.fromSeconds(-1)).build()))
                .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.INVALID_ARGUMENT));
        assertThat(admin.getTrainingStatus(statusOf("")).getEnabled()).isFalse();
    }

    @Test
    void actionsAboveLowAreRefusedWithTrainingLockedBeforeAnyApprovalLowOnesRun() {
        final EvaOsServiceBlockingStub admin = as("wayne", "root", Role.ROLE_ADMIN);
        final EvaOsServiceBlockingStub alice = as("wayne", "alice", Role.ROLE_USER);
        admin.enableTraining(enable("quarterly run"));
        final AuthorizeActionRequest high = AuthorizeActionRequest.newBuilder().setToolName("shell.run")
                                                                  .setArguments(argv("mkdir", "x")).build();
        final AuthorizeActionRequest medium = ApprovalTenancyTest.write("notes.txt", "s").build();
        for (AuthorizeActionRequest action : new AuthorizeActionRequest[] {high, medium}) {
            assertThatThrownBy(() -> alice.authorizeAction(action)).satisfies(e -> {
                assertThat(code(e)).isEqualTo(Status.Code.FAILED_PRECONDITION);
                assertThat(Errors.envelopeCode(e)).isEqualTo("TRAINING_LOCKED");
                assertThat(Errors.metadata(e, "tenant")).isEqualTo("wayne");
            });
        }
        assertThat(admin.listApprovals(ListApprovalsRequest.getDefaultInstance()).getApprovalsList()).isEmpty();
        final var low = alice.authorizeAction(AuthorizeActionRequest.newBuilder().setToolName("shell.run")
                                                                    .setArguments(argv("echo", "hi")).build());
        assertThat(low.getRisk()).isEqualTo(RiskLevel.RISK_LEVEL_LOW);
        assertThat(low.getVerdict()).isEqualTo(Verdict.VERDICT_ALLOW);
        // Another tenant is not locked.
        assertThat(as("gotham", "x", Role.ROLE_USER).authorizeAction(medium).getVerdict())
                .isEqualTo(Verdict.VERDICT_REQUIRE_APPROVAL);
        admin.disableTraining(DisableTrainingRequest.getDefaultInstance());
        assertThat(alice.authorizeAction(medium).getVerdict()).isEqualTo(Verdict.VERDICT_REQUIRE_APPROVAL);
    }

    @Test
    void theLockLiftsAtItsTtl() {
        final EvaOsServiceBlockingStub admin = as("stark", "root", Role.ROLE_ADMIN);
        final TrainingStatus on = admin.enableTraining(enable("short run").toBuilder()
                                                                          .setTtl(Durations.fromMinutes(5)).build());
        assertThat(on.getExpiresAt().getSeconds() - on.getSince().getSeconds()).isEqualTo(300);
        clock.advance(Duration.ofMinutes(4));
        assertThat(admin.getTrainingStatus(statusOf("")).getEnabled()).isTrue();
        clock.advance(Duration.ofMinutes(1));
        assertThat(admin.getTrainingStatus(statusOf(""))).isEqualTo(TrainingStatus.newBuilder().setTenant("stark")
                                                                                   .build());
        assertThat(as("stark", "u", Role.ROLE_USER).authorizeAction(ApprovalTenancyTest.write("a", "s").build())
                                                   .getVerdict()).isEqualTo(Verdict.VERDICT_REQUIRE_APPROVAL);
    }

    @Test
    void theSeedRoutesAndTheContractRoutesServeTheSameRpcs() throws Exception {
        final WebClient admin = evaos.rest(evaos.adminToken("oscorp"));
        final WebClient user = evaos.rest(evaos.token("oscorp", "peter", Role.ROLE_USER));
        final WebClient stranger = evaos.rest(evaos.token("daily", "jj", Role.ROLE_ADMIN));

        final JsonNode on = data(Rest.postJson(admin, "/v1/training/enable",
                                               "{\"tenant\":\"oscorp\",\"reason\":\"seed run\",\"ttl\":\"3600s\"}"));
        assertThat(on.path("enabled").asBoolean()).isTrue();
        assertThat(on.path("enabled_by").asText()).isEqualTo("oscorp/admin");
        assertThat(data(user.get("/v1/training/status/oscorp").aggregate().join()).path("reason").asText())
                .isEqualTo("seed run");
        assertThat(data(user.get("/v1/tenants/oscorp/training").aggregate().join()).path("enabled").asBoolean())
                .isTrue();

        final AggregatedHttpResponse userDisable = Rest.postJson(user, "/v1/training/disable", "{\"tenant\":\"oscorp\"}");
        assertThat(userDisable.status().code()).isEqualTo(403);
        assertThat(errorCode(userDisable)).isEqualTo("PERMISSION_DENIED");
        final AggregatedHttpResponse strangerRead = stranger.get("/v1/training/status/oscorp").aggregate().join();
        assertThat(strangerRead.status().code()).isEqualTo(403);
        assertThat(Rest.postJson(stranger, "/v1/tenants/oscorp/training:disable", "{}").status().code())
                .isEqualTo(403);

        final AggregatedHttpResponse locked = Rest.postJson(user, "/v1/actions:authorize",
                                                            "{\"tool_name\":\"file.write\",\"arguments\":"
                                                            + "{\"path\":\"a.txt\",\"content\":\"x\"}}");
        assertThat(locked.status().code()).isEqualTo(409);
        assertThat(errorCode(locked)).isEqualTo("TRAINING_LOCKED");

        final JsonNode status = data(admin.get("/status").aggregate().join());
        assertThat(status.path("config").path("training.locked_tenants").asInt()).isPositive();

        assertThat(data(Rest.postJson(admin, "/v1/training/disable", "{\"tenant\":\"oscorp\",\"reason\":\"ok\"}"))
                           .path("enabled").asBoolean()).isFalse();
        assertThat(data(Rest.postJson(admin, "/v1/tenants/oscorp/training:enable", "{\"reason\":\"again\"}"))
                           .path("enabled").asBoolean()).isTrue();
        assertThat(data(Rest.postJson(admin, "/v1/tenants/oscorp/training:disable", "{}")).path("enabled")
                                                                                              .asBoolean()).isFalse();
    }
}

package ai.sonia.runtime.edge;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import ai.sonia.common.v1.ErrorCode;
import io.grpc.Status;

class ErrorMappingTest {

    @ParameterizedTest
    @CsvSource({
            "INVALID_ARGUMENT,   INVALID_ARGUMENT,    400",
            "NOT_FOUND,          NOT_FOUND,           404",
            "TIMEOUT,            DEADLINE_EXCEEDED,   504",
            "UNAVAILABLE,        UNAVAILABLE,         503",
            "POLICY_DENIED,      PERMISSION_DENIED,   403",
            "APPROVAL_REQUIRED,  PERMISSION_DENIED,   403",
            "UNAUTHENTICATED,    UNAUTHENTICATED,     401",
            "PERMISSION_DENIED,  PERMISSION_DENIED,   403",
            "RATE_LIMITED,       RESOURCE_EXHAUSTED,  429",
            "CONFLICT,           FAILED_PRECONDITION, 409",
            "TRAINING_LOCKED,    FAILED_PRECONDITION, 409",
            "INTERNAL_ERROR,     INTERNAL,            500",
    })
    void everyEnvelopeCodeRoundTripsThroughItsGrpcStatusAndReason(String wire, Status.Code grpc, int http) {
        final ErrorCode code = ErrorMapping.fromWireName(wire);
        assertThat(code).isNotNull();
        assertThat(ErrorMapping.grpcCode(code)).isEqualTo(grpc);
        assertThat(ErrorMapping.errorCode(grpc, wire)).isEqualTo(code);
        assertThat(ErrorMapping.httpStatus(grpc)).isEqualTo(http);
        assertThat(ErrorMapping.wireName(code)).isEqualTo(wire);
    }

    @ParameterizedTest
    @EnumSource(ErrorCode.class)
    void theTableCoversEveryCodeOfTheContract(ErrorCode code) {
        if (code == ErrorCode.UNRECOGNIZED || code == ErrorCode.ERROR_CODE_UNSPECIFIED) {
            return;
        }
        // Every contract code is raised with some gRPC code that maps back to it.
        assertThat(ErrorMapping.errorCode(ErrorMapping.grpcCode(code), ErrorMapping.wireName(code))).isEqualTo(code);
    }

    @ParameterizedTest
    @EnumSource(Status.Code.class)
    void everyGrpcCodeHasAnEnvelopeCodeAndAnHttpStatus(Status.Code grpc) {
        final ErrorCode code = ErrorMapping.errorCode(grpc, null);
        if (grpc == Status.Code.OK) {
            assertThat(code).isEqualTo(ErrorCode.ERROR_CODE_UNSPECIFIED);
            assertThat(ErrorMapping.httpStatus(grpc)).isEqualTo(200);
            return;
        }
        assertThat(code).isNotIn(ErrorCode.ERROR_CODE_UNSPECIFIED, ErrorCode.UNRECOGNIZED);
        assertThat(ErrorMapping.httpStatus(grpc)).isBetween(400, 599);
    }

    @ParameterizedTest
    @CsvSource({"CANCELLED, 499", "UNIMPLEMENTED, 501", "OUT_OF_RANGE, 400", "ALREADY_EXISTS, 409",
                "ABORTED, 409", "DATA_LOSS, 500", "UNKNOWN, 500"})
    void lessCommonGrpcCodesKeepTheirHttpMeaning(Status.Code grpc, int http) {
        assertThat(ErrorMapping.httpStatus(grpc)).isEqualTo(http);
    }

    @org.junit.jupiter.api.Test
    void alreadyExistsIsAConflict() {
        // DomainException.alreadyExists leaves as gRPC ALREADY_EXISTS with reason CONFLICT: it reads back as
        // CONFLICT, with or without the reason, and is a 409 at the REST edge; a 409 seen first at the edge is
        // a CONFLICT too (raised as FAILED_PRECONDITION, the code's canonical gRPC code).
        assertThat(ErrorMapping.errorCode(Status.Code.ALREADY_EXISTS, "CONFLICT")).isEqualTo(ErrorCode.ERROR_CODE_CONFLICT);
        assertThat(ErrorMapping.errorCode(Status.Code.ALREADY_EXISTS, null)).isEqualTo(ErrorCode.ERROR_CODE_CONFLICT);
        assertThat(ErrorMapping.httpStatus(Status.Code.ALREADY_EXISTS)).isEqualTo(409);
        assertThat(ErrorMapping.errorCode(ErrorMapping.grpcCodeOfHttp(409), null)).isEqualTo(ErrorCode.ERROR_CODE_CONFLICT);
    }

    @ParameterizedTest
    @CsvSource({"POLICY_DENIED", "APPROVAL_REQUIRED", "TRAINING_LOCKED"})
    void reasonsOnlyRefinePermissionDenied(String reason) {
        // The same reason on another code does not turn it into a policy outcome.
        assertThat(ErrorMapping.errorCode(Status.Code.INTERNAL, reason)).isEqualTo(ErrorCode.ERROR_CODE_INTERNAL_ERROR);
        assertThat(Arrays.stream(ErrorCode.values()).filter(c -> c.name().endsWith(reason))).hasSize(1);
    }
}

package ai.sonia.gateway.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;

/** How the stores' refusals look to their callers. */
final class StoreErrors {

    /** The error of a create whose name is taken. */
    static void assertAlreadyExists(Throwable error) {
        assertThat(Status.fromThrowable(error).getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    }

    private StoreErrors() {}
}

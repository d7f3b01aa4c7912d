package ai.sonia.gateway.store;

import static org.assertj.core.api.Assertions.assertThat;

import ai.sonia.runtime.errors.DomainException;

/** How the stores' refusals look to their callers. */
final class StoreErrors {

    /** The error of a create whose name is taken: ALREADY_EXISTS (envelope CONFLICT). */
    static void assertAlreadyExists(Throwable error) {
        assertThat(error).isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.isAlreadyExists()).isTrue());
    }

    private StoreErrors() {}
}

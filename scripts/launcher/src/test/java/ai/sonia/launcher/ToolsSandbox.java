package ai.sonia.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Assumptions;

/** The stack tests' view of the tools sandbox on this machine. */
final class ToolsSandbox {

    /** Set by {@code scripts/sonia test} when bubblewrap is not installed here. */
    static boolean missing() {
        return "1".equals(System.getenv("SONIA_TESTS_WITHOUT_BWRAP"));
    }

    /**
     * Without bubblewrap, an approved program must have been refused with CONFLICT naming the package to install,
     * never run unconfined; the rest of the test, which needs it to have run, is then skipped with that reason.
     */
    static void ifMissingExpectRefusal(long status, String body) {
        if (!missing()) {
            return;
        }
        assertThat(status).as(body).isEqualTo(409);
        assertThat(body).contains("CONFLICT").contains("missing_package").contains("bubblewrap");
        Assumptions.abort("tools sandbox off (bubblewrap missing): the program was refused with CONFLICT, as it must "
                          + "be; running it needs: apt-get install -y bubblewrap");
    }

    private ToolsSandbox() {}
}

package ai.sonia.openclaw;

import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Assumptions;

import ai.sonia.openclaw.sandbox.Jail;

/**
 * Tests that need the real jail: they fail loudly, with the one command that installs it, when bubblewrap
 * is missing — unless {@code SONIA_TESTS_WITHOUT_BWRAP=1} says to skip them on this machine.
 */
public final class TestJail {

    static final String SKIP_VARIABLE = "SONIA_TESTS_WITHOUT_BWRAP";

    /** Fails (or, with SONIA_TESTS_WITHOUT_BWRAP=1, skips) unless bubblewrap works here. */
    public static void requireBubblewrap() {
        final Jail jail = new Jail(Jail.Mode.BWRAP, Jail.find("bwrap", System.getenv("PATH")));
        if (jail.jailed()) {
            return;
        }
        final String why = "bubblewrap does not work here (" + jail.state() + "). Install it with: "
                           + Jail.INSTALL + "   (or set " + SKIP_VARIABLE + "=1 to skip the tests that need it)";
        if ("1".equals(System.getenv(SKIP_VARIABLE))) {
            Assumptions.abort(why);
        }
        fail(why);
    }

    private TestJail() {}
}

package ai.sonia.openclaw;

import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Assumptions;

import ai.sonia.openclaw.sandbox.Jail;

/**
 * Tests that need the real jail: they fail loudly, with the one command that installs it, when bubblewrap
 * is missing — unless {@code SONIA_TESTS_WITHOUT_BWRAP=1} says to skip them on this machine.
 *
 * <p>A class that starts something for such tests asks {@link #works()} in its {@code @BeforeAll} (and starts
 * nothing when it says no) and calls {@link #requireBubblewrap()} before each test: each test, not the class, is
 * then reported skipped, since surefire records a test's assumption with its reason but not a class's.
 */
public final class TestJail {

    static final String SKIP_VARIABLE = "SONIA_TESTS_WITHOUT_BWRAP";
    /** The jail as this machine has it (probed once: a probe runs bwrap). */
    private static volatile Jail jail;

    /** Fails (or, with SONIA_TESTS_WITHOUT_BWRAP=1, skips) unless bubblewrap works here. */
    public static void requireBubblewrap() {
        if (!works()) {
            Assumptions.abort(why());
        }
    }

    /**
     * Whether bubblewrap works here; when it does not, fails with the install line, unless
     * SONIA_TESTS_WITHOUT_BWRAP=1 (then false: the tests that need it are to be skipped).
     */
    public static boolean works() {
        if (jail().jailed()) {
            return true;
        }
        if (!"1".equals(System.getenv(SKIP_VARIABLE))) {
            fail(why());
        }
        return false;
    }

    private static String why() {
        return "bubblewrap does not work here (" + jail().state() + "). Install it with: " + Jail.INSTALL
               + "   (or set " + SKIP_VARIABLE + "=1 to skip the tests that need it)";
    }

    private static Jail jail() {
        Jail probed = jail;
        if (probed == null) {
            probed = new Jail(Jail.Mode.BWRAP, Jail.find("bwrap", System.getenv("PATH")));
            jail = probed;
        }
        return probed;
    }

    private TestJail() {}
}

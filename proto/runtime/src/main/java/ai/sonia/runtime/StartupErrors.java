package ai.sonia.runtime;

import java.net.BindException;

/** Turns start-up failures into sentences an operator can act on. */
public final class StartupErrors {

    /** A one-line explanation of why a service could not start. */
    public static String describe(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof BindException || (c.getMessage() != null && c.getMessage().contains("Address already in use"))) {
                return "port already in use (" + c.getMessage() + "); run `scripts/sonia doctor` to see which process holds it";
            }
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    private StartupErrors() {}
}

package ai.sonia.runtime.logging;

import java.nio.file.Path;

import ch.qos.logback.core.PropertyDefinerBase;

/** Defines {@code LOG_DIR} for logback.xml: {@code $SONIA_LOG_DIR}, else {@code $SONIA_HOME/logs}, else {@code ./logs}. */
public final class LogDirectory extends PropertyDefinerBase {

    @Override
    public String getPropertyValue() {
        final String explicit = System.getenv("SONIA_LOG_DIR");
        if (explicit != null && !explicit.isEmpty()) {
            return explicit;
        }
        final String home = System.getenv("SONIA_HOME");
        return Path.of(home != null && !home.isEmpty() ? home : ".").resolve("logs").toAbsolutePath().toString();
    }
}

package ai.sonia.runtime.logging;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;

class JsonLineEncoderTest {

    private final LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    private final Logger logger = context.getLogger("ai.sonia.test");

    @Test
    void theSameEventGivesTheSameLineToEveryAppenderAndAnotherEventItsOwn() {
        final JsonLineEncoder stdout = new JsonLineEncoder();
        final JsonLineEncoder file = new JsonLineEncoder();
        final LoggingEvent first = event("first {}", "line");
        final byte[] line = stdout.encode(first);
        assertThat(file.encode(first)).isSameAs(line);
        assertThat(new String(line, StandardCharsets.UTF_8)).startsWith("{\"timestamp\":")
                                                            .contains("\"message\":\"first line\"").endsWith("}\n");

        final LoggingEvent second = event("second {}", "line");
        assertThat(new String(file.encode(second), StandardCharsets.UTF_8)).contains("\"message\":\"second line\"");
        // An event equal in every field is still a line of its own.
        final LoggingEvent again = event("second {}", "line");
        final byte[] secondLine = file.encode(second);
        assertThat(stdout.encode(again)).isNotSameAs(secondLine);
    }

    private LoggingEvent event(String message, Object argument) {
        return new LoggingEvent(Logger.class.getName(), logger, Level.INFO, message, null, new Object[] { argument });
    }
}

package ai.sonia.runtime.logging;

import java.nio.file.Path;
import java.util.Map;

import ai.sonia.runtime.OwnerOnlyFiles;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.sift.SiftingAppender;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * Configures logging in code (found by logback through {@code META-INF/services}): JSON lines to stdout
 * and to {@code logs/<service>.log}. Done in code rather than logback.xml because parsing the XML costs
 * a third of a second of every service's start-up.
 *
 * <p>{@code SONIA_LOG_DIR} (default {@code $SONIA_HOME/logs}) and {@code SONIA_LOG_LEVEL} (default INFO).
 * {@code SONIA_LOG_STDOUT=off}: the files only ({@code scripts/sonia up} runs the JVMs detached, their stdout
 * going to a file of its own that then holds only what the JVM itself prints, not every line a second time).
 */
public final class SoniaLogConfigurator extends ContextAwareBase implements Configurator {

    private static final Map<String, Level> QUIET = Map.of(
            "com.linecorp.armeria", Level.WARN,
            "io.netty", Level.WARN,
            "io.grpc", Level.WARN,
            "io.micrometer", Level.WARN,
            // Store migrations: Flyway's own lines (database found, validated, ...) at every start are noise;
            // store/Migrations logs one line when it changed a schema.
            "org.flywaydb", Level.WARN,
            // Kafka clients (pipecat's event publisher) print their whole config at INFO; brokers (in tests) more.
            "org.apache.kafka", Level.WARN,
            "kafka", Level.WARN,
            "state.change.logger", Level.WARN,
            // Server-streaming methods get their REST form (SSE) from the service itself, not from transcoding.
            "com.linecorp.armeria.server.grpc.HttpJsonTranscodingServiceBuilder", Level.ERROR);

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        final String directory = logDirectory();
        final SiftingAppender files = new SiftingAppender();
        files.setContext(context);
        files.setName("FILES");
        final ServiceDiscriminator discriminator = new ServiceDiscriminator();
        discriminator.start();
        files.setDiscriminator(discriminator);
        files.setAppenderFactory((ctx, service) -> {
            final FileAppender<ILoggingEvent> file = new FileAppender<>();
            file.setContext(ctx);
            file.setName("FILE-" + service);
            final Path log = Path.of(directory, service + ".log");
            try {
                OwnerOnlyFiles.file(log); // logback appends to it, keeping its owner-only mode
            } catch (RuntimeException e) {
                addError("cannot make " + log + " owner-only", e); // the appender says why it cannot write
            }
            file.setFile(log.toString());
            file.setEncoder(encoder(ctx));
            file.start();
            return file;
        });
        files.start();

        final Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(System.getenv("SONIA_LOG_LEVEL"), Level.INFO));
        if (!"off".equals(System.getenv("SONIA_LOG_STDOUT"))) {
            final ConsoleAppender<ILoggingEvent> stdout = new ConsoleAppender<>();
            stdout.setContext(context);
            stdout.setName("STDOUT");
            stdout.setEncoder(encoder(context));
            stdout.start();
            root.addAppender(stdout);
        }
        root.addAppender(files);
        QUIET.forEach((name, level) -> context.getLogger(name).setLevel(level));
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    private static JsonLineEncoder encoder(ch.qos.logback.core.Context context) {
        final JsonLineEncoder encoder = new JsonLineEncoder();
        encoder.setContext(context);
        encoder.start();
        return encoder;
    }

    /** {@code $SONIA_LOG_DIR}, else {@code $SONIA_HOME/logs}, else {@code ./logs}. */
    static String logDirectory() {
        final String explicit = System.getenv("SONIA_LOG_DIR");
        if (explicit != null && !explicit.isEmpty()) {
            return explicit;
        }
        final String home = System.getenv("SONIA_HOME");
        return Path.of(home != null && !home.isEmpty() ? home : ".").resolve("logs").toAbsolutePath().toString();
    }
}

package ai.sonia.runtime;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/** The {@code main} of one service process: load config, start, stop gracefully on SIGTERM. */
public final class SoniaMain {

    private static final Logger logger = LoggerFactory.getLogger(SoniaMain.class);

    /** Runs the module until the JVM is asked to stop; exits with 1 if it cannot start. */
    public static void run(ServiceModule module) {
        MDC.put("service", module.spec().name());
        final SoniaServer server;
        try {
            final StackConfig config = StackConfig.load();
            logger.info("Starting {} with {}", module.spec().name(), config);
            server = module.newServer(config).start();
        } catch (Throwable t) {
            logger.error("{} failed to start: {}", module.spec().name(), StartupErrors.describe(t), t);
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, module.spec().name() + "-shutdown"));
    }

    private SoniaMain() {}
}

package ai.sonia.launcher;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import ai.sonia.runtime.ServiceModule;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.StartupErrors;
import ai.sonia.runtime.status.StatusEndpoints;

/**
 * Runs Sonia services in this JVM: all six when no argument is given, else the named ones
 * ({@code StackMain memory router}). Servers start in parallel; if one cannot start, the others are
 * stopped and the process exits with 1 and a sentence saying why. SIGTERM stops them gracefully.
 * {@code StackMain backup [--out FILE] [--with-secrets]} and {@code StackMain restore FILE} archive and
 * restore the whole stack's state ({@link StackBackup}).
 */
public final class StackMain {

    private static final Logger logger = LoggerFactory.getLogger(StackMain.class);

    public static void main(String[] args) {
        MDC.put("service", "sonia");
        if (args.length > 0 && ("backup".equals(args[0]) || "restore".equals(args[0]))) {
            System.exit(StackBackup.run(StackConfig.load(), List.of(args)));
            return;
        }
        final Map<String, ServiceModule> modules = modules();
        final List<String> names = args.length == 0 ? List.copyOf(modules.keySet()) : List.of(args);
        for (String name : names) {
            if (!modules.containsKey(name)) {
                System.err.println("unknown service: " + name + " (expected one of " + modules.keySet() + ')');
                System.exit(2);
            }
        }
        final List<SoniaServer> servers;
        try {
            servers = start(StackConfig.load(), names.stream().map(modules::get).toList());
        } catch (Exception e) {
            logger.error("Sonia failed to start: {}", StartupErrors.describe(e), e);
            System.exit(1);
            return;
        }
        logger.atInfo().addKeyValue("services", names).addKeyValue("jvm_uptime_ms", StatusEndpoints.jvmUptimeMillis())
              .log("Sonia is up: {}", names);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stopAll(servers), "sonia-shutdown"));
    }

    /** Every service module on the classpath, by name, in the contract's order. */
    static Map<String, ServiceModule> modules() {
        final Map<String, ServiceModule> byName = new LinkedHashMap<>();
        for (ai.sonia.runtime.ServiceSpec spec : ai.sonia.runtime.Stack.SERVICES) {
            ServiceLoader.load(ServiceModule.class).stream()
                         .map(ServiceLoader.Provider::get)
                         .filter(m -> m.spec().name().equals(spec.name()))
                         .findFirst()
                         .ifPresent(m -> byName.put(spec.name(), m));
        }
        return byName;
    }

    /** Builds and starts the modules in parallel; on any failure stops what started and rethrows. */
    static List<SoniaServer> start(StackConfig config, List<ServiceModule> modules) throws Exception {
        final ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, modules.size()));
        try {
            final List<CompletableFuture<SoniaServer>> starting = new ArrayList<>();
            for (ServiceModule module : modules) {
                starting.add(CompletableFuture.supplyAsync(() -> {
                    try (MDC.MDCCloseable ignored = MDC.putCloseable("service", module.spec().name())) {
                        return module.newServer(config).start();
                    } catch (Exception e) {
                        throw new IllegalStateException(module.spec().name() + ": " + StartupErrors.describe(e), e);
                    }
                }, pool));
            }
            final List<SoniaServer> started = new ArrayList<>();
            Exception failure = null;
            for (CompletableFuture<SoniaServer> future : starting) {
                try {
                    started.add(future.join());
                } catch (Exception e) {
                    failure = failure == null ? e : failure;
                }
            }
            if (failure != null) {
                stopAll(started);
                throw failure;
            }
            return started;
        } finally {
            pool.shutdown();
        }
    }

    static void stopAll(List<SoniaServer> servers) {
        servers.parallelStream().forEach(SoniaServer::close);
    }

    private StackMain() {}
}

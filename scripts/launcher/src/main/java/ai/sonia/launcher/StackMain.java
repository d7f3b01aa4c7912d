package ai.sonia.launcher;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import ai.sonia.runtime.ConfigException;
import ai.sonia.runtime.OwnerOnlyFiles;
import ai.sonia.runtime.ServiceModule;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.StartupErrors;
import ai.sonia.runtime.StartupWork;
import ai.sonia.runtime.Threads;
import ai.sonia.runtime.status.StatusEndpoints;

/**
 * Runs Sonia services in this JVM: all six when no argument is given, else the named ones
 * ({@code StackMain memory router}). Servers start in parallel; if one cannot start, the others are
 * stopped and the process exits with 1 and a sentence saying why. SIGTERM stops them gracefully.
 *
 * <p>The operator's commands ({@code token}, {@code targets}, {@code config check|doc}, {@code backup},
 * {@code restore}) are {@link OperatorCommands}; {@code scripts/sonia} only passes them on.
 */
public final class StackMain {

    private static final Logger logger = LoggerFactory.getLogger(StackMain.class);
    static final String PORTS_FILE = "ports";
    static final String TLS_FILE = "tls";
    static final String NOTICE_FILE = "notice";
    static final String UP_FILE_PREFIX = "up.";

    public static void main(String[] args) {
        MDC.put("service", "sonia");
        if (args.length > 0 && OperatorCommands.NAMES.contains(args[0])) {
            System.exit(new OperatorCommands(System.getenv(), System.out, System.err).run(List.of(args)));
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
        final StackConfig config;
        final Map<String, SoniaServer> servers = new ConcurrentHashMap<>();
        try {
            config = StackConfig.load();
            final List<String> busy = busyPorts(config, names.stream().map(n -> modules.get(n).spec()).toList());
            if (!busy.isEmpty()) {
                busy.forEach(System.err::println);
                System.err.println("sonia: free the ports above (or use --port-offset N) and try again");
                System.exit(1);
                return;
            }
            writeRunFile(config, PORTS_FILE, ports(config));
            for (SoniaServer server : start(config, names.stream().map(modules::get).toList())) {
                servers.put(server.spec().name(), server);
            }
        } catch (ConfigException e) {
            logger.error("Sonia failed to start: {}", e.getMessage());
            printProblems(e);
            System.exit(1);
            return;
        } catch (Exception e) {
            final String why = e instanceof CannotStart ? e.getMessage() : StartupErrors.describe(e);
            logger.error("Sonia failed to start: {}", why, e);
            // Also on stderr, as for a refused config: a detached JVM's log is not its output (scripts/sonia up
            // shows the output's last lines when the stack does not come up).
            System.err.println("sonia: failed to start: " + why);
            System.exit(1);
            return;
        }
        logger.atInfo().addKeyValue("services", names).addKeyValue("jvm_uptime_ms", StatusEndpoints.jvmUptimeMillis())
              .log("Sonia is up: {}", names);
        try {
            writeNotices(config, servers);
        } catch (IOException e) {
            logger.warn("Cannot write the start-up notices under {}: {}", config.home().resolve("run"), e.toString());
        }
        final Thread control = new Thread(new StackControl(config.home().resolve("run").resolve("control"), config,
                                                           java.util.Set.copyOf(names), modules, servers),
                                          "sonia-control");
        control.setDaemon(true);
        control.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            control.interrupt();
            stopAll(List.copyOf(servers.values()));
        }, "sonia-shutdown"));
    }

    /**
     * One line per port of {@code services} that something already listens on, naming the port and the service
     * ({@code scripts/sonia up} prints them with the owner): nothing is opened when a port is taken.
     */
    static List<String> busyPorts(StackConfig config, List<ServiceSpec> services) {
        final List<String> busy = new ArrayList<>();
        for (ServiceSpec spec : services) {
            final int port = config.port(spec);
            if (port == 0) {
                continue;
            }
            // The wildcard address, as `ss sport = :port` sees it: a listener on any address makes the port busy.
            try (ServerSocket probe = new ServerSocket()) {
                probe.setReuseAddress(true);
                probe.bind(new InetSocketAddress(port));
            } catch (IOException e) {
                busy.add("sonia: port " + port + " (" + spec.name() + ") is already in use");
            }
        }
        return busy;
    }

    /** {@code run/ports}: one {@code <service> <port>} line per service, which {@code scripts/sonia} reads. */
    static String ports(StackConfig config) {
        final StringBuilder lines = new StringBuilder();
        for (ServiceSpec spec : Stack.SERVICES) {
            lines.append(spec.name()).append(' ').append(config.port(spec)).append('\n');
        }
        return lines.toString();
    }

    /**
     * What {@code scripts/sonia up} prints once the stack is up, written by the JVM that runs the service:
     * {@code run/tls} (the gateway's certificate, as {@code sonia tls} prints it; empty when TLS is off) and
     * {@code run/notice} (OpenClaw's warning from its {@code /status} configuration summary, or nothing).
     */
    static void writeNotices(StackConfig config, Map<String, SoniaServer> servers) throws IOException {
        final SoniaServer gateway = servers.get(Stack.GATEWAY.name());
        if (gateway != null) {
            String lines;
            try {
                lines = String.join("\n", OperatorCommands.tlsLines(config, gateway.port())) + '\n';
            } catch (IllegalStateException e) { // TLS off: nothing to print
                lines = "";
            }
            writeRunFile(config, TLS_FILE, lines);
        }
        final SoniaServer openclaw = servers.get(Stack.OPENCLAW.name());
        if (openclaw != null) {
            final String warning = openclaw.configSummary().getOrDefault("warning", "");
            writeRunFile(config, NOTICE_FILE, warning.isEmpty() ? "" : "sonia: WARNING (openclaw): " + warning + '\n');
        }
    }

    /** Replaces {@code run/<name>} at once (a reader sees the old file or the whole new one), owner-only. */
    static void writeRunFile(StackConfig config, String name, String content) throws IOException {
        OwnerOnlyFiles.writeAtomically(OwnerOnlyFiles.directory(config.home().resolve("run")).resolve(name), content);
    }

    private static void printProblems(ConfigException e) {
        System.err.println("sonia: " + e.headline());
        e.problems().forEach(p -> System.err.println("  - " + p));
    }

    /** Every service module on the classpath, by name, in the contract's order. */
    static Map<String, ServiceModule> modules() {
        final Map<String, ServiceModule> found = new HashMap<>(); // the first of each name, one scan
        ServiceLoader.load(ServiceModule.class).forEach(m -> found.putIfAbsent(m.spec().name(), m));
        final Map<String, ServiceModule> byName = new LinkedHashMap<>();
        for (ServiceSpec spec : Stack.SERVICES) {
            if (found.containsKey(spec.name())) {
                byName.put(spec.name(), found.get(spec.name()));
            }
        }
        return byName;
    }

    /** Builds and starts the modules in parallel; on any failure stops what started and rethrows. */
    static List<SoniaServer> start(StackConfig config, List<ServiceModule> modules) throws Exception {
        final ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, modules.size()));
        StartupWork.hold(); // background work (the embedding model) waits for all six
        try {
            final List<CompletableFuture<SoniaServer>> starting = new ArrayList<>();
            for (ServiceModule module : modules) {
                starting.add(CompletableFuture.supplyAsync(() -> {
                    try (MDC.MDCCloseable ignored = MDC.putCloseable("service", module.spec().name())) {
                        final SoniaServer server = module.newServer(config);
                        try {
                            server.start();
                            // run/up.<service>: it listens (scripts/sonia up then checks its /healthz once).
                            writeRunFile(config, UP_FILE_PREFIX + module.spec().name(),
                                         StatusEndpoints.jvmUptimeMillis() + "\n");
                            return server;
                        } catch (RuntimeException | IOException e) {
                            server.close(); // what it opened (databases, their locks) is released
                            throw e;
                        }
                    } catch (Exception e) {
                        throw new CannotStart(module.spec().name(), e);
                    }
                }, pool));
            }
            final List<SoniaServer> started = new ArrayList<>();
            Exception failure = null;
            for (CompletableFuture<SoniaServer> future : starting) {
                try {
                    started.add(future.join());
                } catch (CompletionException e) { // the service's own failure, as its task threw it
                    failure = failure == null ? (e.getCause() instanceof Exception cause ? cause : e) : failure;
                }
            }
            if (failure != null) {
                stopAll(started);
                throw failure;
            }
            return started;
        } finally {
            pool.shutdown();
            StartupWork.release();
        }
    }

    /** A service that could not start: the message names it and says why. */
    static final class CannotStart extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        CannotStart(String service, Exception cause) {
            super(service + ": " + StartupErrors.describe(cause), cause);
        }
    }

    /**
     * Stops the servers all at once: each waits its own quiet period for in-flight requests, so one after the
     * other (or two at a time, as a parallel stream on two cores did) multiplied that wait by the servers' count.
     */
    static void stopAll(List<SoniaServer> servers) {
        final ExecutorService stopping = Executors.newFixedThreadPool(Math.max(1, servers.size()),
                                                                      Threads.factory("sonia-stop"));
        try {
            CompletableFuture.allOf(servers.stream().map(server -> CompletableFuture.runAsync(server::close, stopping))
                                           .toArray(CompletableFuture[]::new))
                             .join();
        } finally {
            stopping.shutdown();
        }
    }

    private StackMain() {}
}

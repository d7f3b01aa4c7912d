package ai.sonia.launcher;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import ai.sonia.runtime.ServiceModule;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.StartupErrors;

/**
 * Restarts one service of this JVM on request, so {@code scripts/sonia restart <service>} works in the
 * one-JVM mode too: the request is a file {@code run/control/restart-<service>} (whoever may write the
 * run directory may also kill the process, so a file asks no more trust than a signal would), the answer
 * {@code restart-<service>.done} holds {@code ok} or why the service did not come back. The service's
 * server stops gracefully, its stores close, and a new server over the same data starts on its port.
 */
final class RestartControl implements Runnable {

    private static final Logger logger = LoggerFactory.getLogger(RestartControl.class);
    private static final String PREFIX = "restart-";
    private static final long POLL_MS = 100;

    private final Path dir;
    private final StackConfig config;
    private final Map<String, ServiceModule> modules;
    private final Map<String, SoniaServer> servers;

    RestartControl(Path dir, StackConfig config, Map<String, ServiceModule> modules,
                   Map<String, SoniaServer> servers) {
        this.dir = dir;
        this.config = config;
        this.modules = modules;
        this.servers = servers;
    }

    @Override
    public void run() {
        MDC.put("service", "sonia");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            logger.warn("No restart control: cannot create {}", dir, e);
            return;
        }
        while (!Thread.currentThread().isInterrupted()) {
            try (DirectoryStream<Path> requests = Files.newDirectoryStream(dir, PREFIX + "*")) {
                for (Path request : requests) {
                    final String name = request.getFileName().toString().substring(PREFIX.length());
                    if (name.endsWith(".done")) {
                        continue;
                    }
                    Files.deleteIfExists(request);
                    Files.writeString(dir.resolve(PREFIX + name + ".done"), restart(name) + "\n");
                }
                Thread.sleep(POLL_MS);
            } catch (InterruptedException e) {
                return;
            } catch (IOException e) {
                logger.warn("Restart control failed to read {}", dir, e);
            }
        }
    }

    /** Restarts one service; returns "ok" or the reason it did not come back. */
    String restart(String name) {
        final ServiceModule module = modules.get(name);
        if (module == null || !servers.containsKey(name)) {
            return "not running in this JVM: " + name;
        }
        try (MDC.MDCCloseable ignored = MDC.putCloseable("service", name)) {
            final long start = System.nanoTime();
            servers.remove(name).close();
            final SoniaServer server = module.newServer(config).start();
            servers.put(name, server);
            logger.atInfo().addKeyValue("restart_ms", (System.nanoTime() - start) / 1_000_000)
                  .log("{} restarted", name);
            return "ok";
        } catch (Exception e) {
            logger.error("{} did not restart: {}", name, StartupErrors.describe(e), e);
            return "failed: " + StartupErrors.describe(e);
        }
    }
}

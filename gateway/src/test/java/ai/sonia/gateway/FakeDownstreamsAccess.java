package ai.sonia.gateway;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;

import com.linecorp.armeria.client.WebClient;

import ai.sonia.gateway.v1.GatewayServiceGrpc;
import ai.sonia.gateway.v1.GetDependenciesRequest;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.client.DownstreamPolicy;
import ai.sonia.runtime.client.SoniaChannels;
import ai.sonia.runtime.testing.TestCredentials;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;

/** Starts the scripted downstreams and a real gateway in front of them, for benchmarks. */
public final class FakeDownstreamsAccess {

    /** A running gateway over fake downstreams. */
    public static final class Stack implements AutoCloseable {
        private final List<SoniaServer> servers = new ArrayList<>();
        private final Map<String, Integer> ports = new HashMap<>();
        private SoniaServer gateway;
        private ai.sonia.runtime.StackConfig config;

        /** A user's access token the gateway accepts, for the benchmark's clients. */
        public String token() {
            return TestCredentials.userToken(config, "default", "bench");
        }

        public int gatewayPort() {
            return gateway.port();
        }

        public int port(String service) {
            return ports.get(service);
        }

        /** Every attempt a memory method received, failures injected before the service included. */
        public double memoryAttempts(String method) {
            final String metrics = WebClient.of("http://127.0.0.1:" + ports.get("memory")).get("/metrics")
                                            .aggregate().join().contentUtf8();
            double total = 0;
            for (String line : metrics.split("\n")) {
                if (line.startsWith("sonia_server_requests_total{")
                    && line.contains("operation=\"sonia.memory.v1.MemoryService/" + method + '"')) {
                    total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
            return total;
        }

        public String circuitState(String service) {
            final ManagedChannel channel = SoniaChannels.forTarget("127.0.0.1:" + gateway.port(),
                                                                   ai.sonia.runtime.Stack.GATEWAY,
                                                                   TestCredentials.bearer(token()));
            try {
                return GatewayServiceGrpc.newBlockingStub(channel).getDependencies(GetDependenciesRequest.getDefaultInstance())
                                         .getDependenciesList().stream().filter(d -> d.getName().equals(service))
                                         .findFirst().orElseThrow().getCircuitState();
            } finally {
                SoniaChannels.close(channel);
            }
        }

        @Override
        public void close() {
            gateway.close();
            servers.forEach(SoniaServer::close);
        }
    }

    /** Fakes for memory, router, EVA-OS and OpenClaw (with {@code env}, e.g. fault injection) and a gateway. */
    public static Stack start(Map<String, String> env) {
        return start(env, new DownstreamPolicy(5, Duration.ofSeconds(10), 256));
    }

    /** The same, with the gateway's downstream policy given. */
    public static Stack start(Map<String, String> env, DownstreamPolicy policy) {
        FakeDownstreams.reset();
        final Stack stack = new Stack();
        final Map<String, String> targets = new HashMap<>(env);
        start(stack, targets, ai.sonia.runtime.Stack.MEMORY, new FakeDownstreams.Memory(), env);
        start(stack, targets, ai.sonia.runtime.Stack.ROUTER, new FakeDownstreams.Router(), env);
        start(stack, targets, ai.sonia.runtime.Stack.EVAOS, new FakeDownstreams.EvaOs(), env);
        start(stack, targets, ai.sonia.runtime.Stack.OPENCLAW, new FakeDownstreams.OpenClaw(), env);
        targets.put("SONIA_PIPECAT_TARGET", "127.0.0.1:1");
        // The benchmark measures the gateway, not its limits: they are set far above its rate.
        stack.config = GatewayHomes.gateway("bench-gateway", "{\"rateLimits\":{\"perPrincipal\":{\"requests\":100000000,"
                                                            + "\"perSeconds\":1},\"perIp\":{\"requests\":100000000,"
                                                            + "\"perSeconds\":1}}}", targets);
        stack.gateway = new GatewayModule().newServer(stack.config, new GatewayConfig(policy)).start();
        return stack;
    }

    public static void slowRouter() {
        FakeDownstreams.routerMode = FakeDownstreams.Mode.SLOW;
    }

    public static Queue<Long> routerCancelTimes() {
        return FakeDownstreams.routerCancelTimes;
    }

    private static void start(Stack stack, Map<String, String> targets, ServiceSpec spec, BindableService service,
                              Map<String, String> env) {
        final SoniaServer server = SoniaServer.builder(spec, GatewayHomes.downstream("bench-" + spec.name(), spec.name())
                                                                         .withEnv(env))
                                              .addService(service).build().start();
        stack.servers.add(server);
        stack.ports.put(spec.name(), server.port());
        targets.put("SONIA_" + spec.name().toUpperCase() + "_TARGET", "127.0.0.1:" + server.port());
    }

    private FakeDownstreamsAccess() {}
}

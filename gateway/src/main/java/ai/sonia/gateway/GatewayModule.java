package ai.sonia.gateway;

import java.time.Clock;
import java.util.List;

import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.server.Route;
import com.linecorp.armeria.server.websocket.WebSocketService;

import ai.sonia.gateway.action.ActionRunner;
import ai.sonia.gateway.action.ToolDefinitions;
import ai.sonia.gateway.chat.ChatOrchestrator;
import ai.sonia.gateway.chat.ChatStreamer;
import ai.sonia.gateway.client.Downstreams;
import ai.sonia.gateway.console.ConsoleAssets;
import ai.sonia.gateway.console.ConsoleSessions;
import ai.sonia.gateway.console.DownstreamRest;
import ai.sonia.gateway.domain.Accounts;
import ai.sonia.gateway.domain.AuthSettings;
import ai.sonia.gateway.domain.FirstAdmin;
import ai.sonia.gateway.edge.InputLimitsDecorator;
import ai.sonia.gateway.grpc.ApiKeyServiceImpl;
import ai.sonia.gateway.grpc.ArmeriaRequest;
import ai.sonia.gateway.grpc.AuditServiceImpl;
import ai.sonia.gateway.grpc.AuthServiceImpl;
import ai.sonia.gateway.grpc.GatewayServiceImpl;
import ai.sonia.gateway.grpc.UserServiceImpl;
import ai.sonia.gateway.sse.ChatSseService;
import ai.sonia.gateway.store.PostgresAccountStore;
import ai.sonia.gateway.store.PostgresAuditLog;
import ai.sonia.gateway.store.PostgresDatabase;
import ai.sonia.gateway.store.SqliteAccountStore;
import ai.sonia.gateway.store.SqliteAuditLog;
import ai.sonia.gateway.store.SqliteDatabase;
import ai.sonia.gateway.ws.ApprovalsSocket;
import ai.sonia.runtime.ConfigSchema;
import ai.sonia.runtime.ServiceModule;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.auth.AccessTokens;
import ai.sonia.runtime.auth.RevocationList;
import ai.sonia.runtime.auth.StreamSlots;
import ai.sonia.runtime.client.Downstream;
import ai.sonia.runtime.edge.OriginPolicy;
import ai.sonia.runtime.edge.WebSocketLengthGuard;
import ai.sonia.runtime.limits.RateLimiter;
import ai.sonia.runtime.status.DependencyProbe;
import ai.sonia.runtime.store.Postgres;
import ai.sonia.runtime.store.PostgresPool;
import io.micrometer.core.instrument.Gauge;

/** Wires the gateway: the public front door over the five other services, with the stack's accounts. */
public final class GatewayModule implements ServiceModule {

    @Override
    public ConfigSchema configSchema() {
        return ConfigSchema.of(GatewayConfig.Keys.class);
    }

    @Override
    public ServiceSpec spec() {
        return Stack.GATEWAY;
    }

    @Override
    public SoniaServer newServer(StackConfig config) {
        return newServer(config, GatewayConfig.from(config.service(spec().name(), GatewayConfig.Keys.class)));
    }

    SoniaServer newServer(StackConfig config, GatewayConfig gateway) {
        final List<ServiceSpec> dependencies = Stack.SERVICES.stream().filter(s -> s != Stack.GATEWAY).toList();
        final Downstreams downstreams = new Downstreams(config, gateway.downstreamPolicy());
        final DependencyProbe probe = new DependencyProbe(config, Stack.GATEWAY, dependencies, downstreams::circuitState);
        final ToolDefinitions tools = new ToolDefinitions();
        final ActionRunner actions = new ActionRunner(downstreams, tools);
        final ChatStreamer streamer = new ChatStreamer(downstreams);
        final GatewayConfig.Keys keys = config.service(spec().name(), GatewayConfig.Keys.class);
        final AuthSettings auth = AuthSettings.from(keys.auth());
        final RateLimiter limiter = RateLimiter.of(config, spec().name());
        // store.engine: the accounts and audit in SQLite here, or on the PostgreSQL every replica shares (fails closed).
        final Postgres.Settings postgres = Postgres.from(config);
        final AutoCloseable accountsDb;
        final Accounts accounts;
        if (postgres == null) {
            final SqliteDatabase sqlite = SqliteDatabase.open(config.dataDir("gateway").resolve("accounts.db"));
            accountsDb = sqlite;
            accounts = new Accounts(new SqliteAccountStore(sqlite), new SqliteAuditLog(sqlite), auth,
                                    AccessTokens.of(config), Clock.systemUTC(), RevocationList.of(config), limiter,
                                    new ArmeriaRequest());
        } else {
            final PostgresPool shared = PostgresDatabase.open(postgres);
            accountsDb = shared;
            accounts = new Accounts(new PostgresAccountStore(shared), new PostgresAuditLog(shared), auth,
                                    AccessTokens.of(config), Clock.systemUTC(), RevocationList.of(config), limiter,
                                    new ArmeriaRequest());
        }
        FirstAdmin.ensure(accounts, config);
        final ConsoleAssets console = new ConsoleAssets();
        final ClientFactory relays = DownstreamRest.clientFactory(config); // one TLS client context for the four
        final DownstreamRest evaosRest = new DownstreamRest(config, Stack.EVAOS, relays);
        final DownstreamRest memoryRest = new DownstreamRest(config, Stack.MEMORY, relays);
        final DownstreamRest routerRest = new DownstreamRest(config, Stack.ROUTER, relays);
        final DownstreamRest pipecatRest = new DownstreamRest(config, Stack.PIPECAT, relays);
        final SoniaServer.Builder builder =
                SoniaServer.builder(spec(), config)
                           .useBlockingTaskExecutor(true)
                           .addService(new GatewayServiceImpl(new ChatOrchestrator(downstreams, tools, actions),
                                                              streamer, actions, probe, Limitations.load()))
                           .addService(new AuthServiceImpl(accounts))
                           .addService(new UserServiceImpl(accounts))
                           .addService(new ApiKeyServiceImpl(accounts.apiKeys()))
                           .addService(new AuditServiceImpl(accounts.audit(), downstreams.evaos()))
                           .authenticator(accounts.authenticator(config))
                           .dependencyProbe(probe)
                           .credentialDecorator(new ConsoleSessions(spec().name(), console))
                           .configure(sb -> {
                               // Added here, it runs inside the runtime's authentication: it knows the principal.
                               sb.decorator(new InputLimitsDecorator());
                               sb.serviceUnder(ConsoleAssets.PREFIX, console); // reached without a credential
                               // The other services' REST under this origin, for pages (the console): EVA-OS's
                               // approvals, Memory's ledger, Pipecat's sessions, the router's usage and budget
                               // (its read routes only; its chat is the gateway's to orchestrate).
                               sb.service("/v1/approvals", evaosRest);
                               sb.serviceUnder("/v1/approvals/", evaosRest);
                               sb.service("/v1/memories", memoryRest);
                               for (String verb : List.of("search", "store", "stats")) {
                                   sb.service("exact:/v1/memories:" + verb, memoryRest);
                               }
                               sb.serviceUnder("/v1/memories/", memoryRest);
                               sb.service("/v1/auditRecords", memoryRest);
                               sb.service("/sessions", pipecatRest);
                               sb.serviceUnder("/session/", pipecatRest);
                               for (String read : List.of("/v1/usage", "/v1/usage:forecast", "/v1/budget")) {
                                   sb.service(Route.builder().exact(read).methods(HttpMethod.GET).build(), routerRest);
                               }
                               // The seeds' routes on the front door too, each answered by its own service.
                               sb.service(Route.builder().exact("/v1/forecast").methods(HttpMethod.POST).build(),
                                          routerRest);
                               sb.service(Route.builder().pathPrefix("/v1/forecast/").methods(HttpMethod.GET).build(),
                                          routerRest);
                               sb.service("exact:/v1/remember", memoryRest);
                               sb.service("exact:/v1/rag/retrieve", memoryRest);
                               sb.serviceUnder("/v1/recall/", memoryRest);
                               sb.serviceUnder("/v1/training/", evaosRest);
                               // Every REST binding of StreamChat (the seed's /v1/conversation/stream beside
                               // /v1/chat:stream) is the one SSE service: transcoding serves no server stream.
                               final ChatSseService chatSse = new ChatSseService(streamer);
                               ChatSseService.paths().forEach(path -> sb.service(
                                       Route.builder().exact(path).methods(HttpMethod.POST).build(), chatSse));
                               // The origin rule is OriginPolicy's alone: browsers from this machine, or programs.
                               sb.service("/ws/approvals",
                                          WebSocketService.builder(new ApprovalsSocket(
                                                                  downstreams.evaosChannel(),
                                                                  new StreamSlots(gateway.approvalStreamsPerPrincipal()),
                                                                  gateway.approvalPingInterval()))
                                                          .allowedOrigins("*").build()
                                                          .decorate(new WebSocketLengthGuard())
                                                          .decorate(new OriginPolicy(gateway.allowedOrigins())));
                               // Pipecat's conversation socket (events, replay, audio) under this origin too.
                               sb.service("/ws/{session_id}",
                                          WebSocketService.builder(pipecatRest.socket()).allowedOrigins("*")
                                                          .maxFramePayloadLength(1 << 20).build()
                                                          .decorate(new WebSocketLengthGuard())
                                                          .decorate(new OriginPolicy(gateway.allowedOrigins())));
                           })
                           .configSummary("circuit.failures_to_open", gateway.downstreamPolicy().failuresToOpen())
                           .configSummary("circuit.open_duration", gateway.downstreamPolicy().openDuration())
                           .configSummary("downstream.max_concurrent_calls",
                                          gateway.downstreamPolicy().maxConcurrentCalls())
                           .configSummary("downstream.max_concurrent_calls_per_tenant",
                                          gateway.downstreamPolicy().maxConcurrentCallsPerTenant())
                           .configSummary("approvals.max_streams_per_principal", gateway.approvalStreamsPerPrincipal())
                           .configSummary("auth.registration", auth.openRegistration() ? "open" : "admin")
                           .configSummary("auth.access_token_ttl", auth.accessTtl())
                           .closeOnStop(accountsDb)
                           .configSummary("store", postgres == null ? "sqlite" : postgres.toString())
                           .closeOnStop(evaosRest)
                           .closeOnStop(memoryRest)
                           .closeOnStop(routerRest)
                           .closeOnStop(pipecatRest)
                           .closeOnStop(relays)
                           .closeOnStop(probe)
                           .closeOnStop(downstreams);
        dependencies.forEach(builder::dependency);
        // Without the router no chat can be answered (it has its own offline provider); memory, EVA-OS and
        // OpenClaw only degrade a chat or fail their actions, so they do not take the gateway out of service.
        builder.requiredDependency(Stack.ROUTER);
        for (Downstream downstream : downstreams.all()) {
            // 0 closed, 1 open, 2 half-open (other resilience4j states: 3).
            Gauge.builder("sonia.downstream.circuit.state", downstream, d -> switch (d.circuitState()) {
                     case "CLOSED" -> 0;
                     case "OPEN" -> 1;
                     case "HALF_OPEN" -> 2;
                     default -> 3;
                 })
                 .tag("service", downstream.spec().name())
                 .description("Circuit breaker state of a downstream: 0 closed, 1 open, 2 half-open")
                 .register(builder.meterRegistry());
        }
        return builder.build();
    }
}

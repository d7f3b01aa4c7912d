package ai.sonia.router;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import com.linecorp.armeria.client.ClientFactory;

import ai.sonia.router.client.OllamaTags;
import ai.sonia.router.client.ProviderHttpClient;
import ai.sonia.router.domain.Budgets;
import ai.sonia.router.domain.HealthBoard;
import ai.sonia.router.domain.Ledger;
import ai.sonia.router.domain.ModelCatalog;
import ai.sonia.router.domain.ModelListing;
import ai.sonia.router.domain.ResponseCache;
import ai.sonia.router.domain.RetryBudget;
import ai.sonia.router.domain.Router;
import ai.sonia.router.domain.UsageReports;
import ai.sonia.router.embed.Embedder;
import ai.sonia.router.grpc.RouterServiceImpl;
import ai.sonia.router.provider.ExtractiveProvider;
import ai.sonia.router.provider.LangChainProvider;
import ai.sonia.router.store.MeteredLedger;
import ai.sonia.router.store.PostgresLedger;
import ai.sonia.router.store.SqliteLedger;
import ai.sonia.router.v1.RouterServiceGrpc;
import ai.sonia.runtime.ConfigSchema;
import ai.sonia.runtime.ServiceModule;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.Threads;
import ai.sonia.runtime.store.Postgres;
import dev.langchain4j.http.client.HttpClientBuilder;

/** Wires the router service: routing over LLM providers, embeddings and the ledger. */
public final class RouterModule implements ServiceModule {

    private static final Duration EMBED_TIMEOUT = Duration.ofSeconds(30);

    @Override
    public ConfigSchema configSchema() {
        return ConfigSchema.of(RouterConfig.Keys.class);
    }

    @Override
    public ServiceSpec spec() {
        return Stack.ROUTER;
    }

    @Override
    public SoniaServer newServer(StackConfig config) {
        final RouterConfig rc = RouterConfig.from(config);
        final ExecutorService io = Executors.newCachedThreadPool(Threads.factory("router-provider"));
        final ClientFactory clients = ClientFactory.builder().connectTimeout(rc.connectTimeout()).build();
        final HttpClientBuilder http = ProviderHttpClient.builder(clients, io);
        // store.engine: the SQLite file of this machine, or the PostgreSQL every replica shares (fails closed).
        final Postgres.Settings postgres = Postgres.from(config);
        final AutoCloseable openLedger = postgres == null ? SqliteLedger.open(config.dataDir("router"))
                                                          : PostgresLedger.open(postgres);
        final Ledger ledger = (Ledger) openLedger;
        final SoniaServer.Builder server = SoniaServer.builder(spec(), config);
        final ModelCatalog catalog = new ModelCatalog(rc.deployments(), rc.aliases(), rc.defaultModel());
        final HealthBoard health = new HealthBoard(Clock.systemUTC(), rc.failureThreshold(), rc.cooldown());
        final Router router = new Router(catalog,
                                         Map.of("ollama", LangChainProvider.ollama(http),
                                                "anthropic", LangChainProvider.anthropic(http),
                                                "openai", LangChainProvider.openAi(http),
                                                ExtractiveProvider.NAME, new ExtractiveProvider()),
                                         health, new RetryBudget(rc.budgetRatio(), rc.budgetCap()),
                                         rc.maxAttempts(), rc.retryWait(),
                                         new Budgets(rc.budgets().defaults(), rc.budgets().tenants(),
                                                     rc.budgets().defaultOutputTokens(),
                                                     new MeteredLedger(ledger, server.meterRegistry()),
                                                     Clock.systemUTC(), postgres != null),
                                         new ResponseCache(rc.cacheMaxEntries(), rc.cacheTtl(), System::nanoTime));
        final ModelListing listing = new ModelListing(catalog, health, url -> new OllamaTags(url, http).names());
        final Embedder embedder = new Embedder(rc.ollamaBaseUrl(), http, EMBED_TIMEOUT);
        final RouterServiceImpl service =
                new RouterServiceImpl(router, embedder, new UsageReports(ledger, catalog, Clock.systemUTC()), listing);
        server.addService(service)
                           .serverSentEvents(RouterServiceGrpc.getStreamChatMethod(), service::streamChat)
                           .useBlockingTaskExecutor(true)
                           .configSummary("default_model", rc.defaultModel())
                           .configSummary("ollama_base_url", rc.ollamaBaseUrl())
                           .configSummary("cache", rc.cacheMaxEntries() + " answers, " + rc.cacheTtl())
                           .configSummary("store", postgres == null ? "sqlite" : postgres.toString())
                           .closeOnStop(openLedger)
                           .closeOnStop(clients)
                           .closeOnStop(io::shutdownNow);
        catalog.deployments().forEach(d -> server.configSummary("deployment." + d.name(), d.provider()));
        rc.aliases().forEach((alias, chain) -> server.configSummary("alias." + alias, String.join(" > ", chain)));
        rc.budgets().tenants().forEach((tenant, limits) -> server.configSummary(
                "budget." + tenant, limits.tokens() + " tokens, " + limits.costMicros() + " micro-USD per month"));
        return server.build();
    }
}

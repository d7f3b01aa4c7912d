package ai.sonia.router;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ai.sonia.router.domain.Deployment;
import ai.sonia.router.provider.ExtractiveProvider;
import ai.sonia.runtime.ConfigKey;
import ai.sonia.runtime.StackConfig;

/**
 * The router's configuration: section {@code services.router} of the stack config, with environment
 * overrides for endpoints and keys. With no section at all, the default chain is Ollama
 * ({@code OLLAMA_BASE_URL}, model {@code OLLAMA_MODEL}), Anthropic (when {@code ANTHROPIC_API_KEY} is
 * set), OpenRouter (when {@code OPENROUTER_API_KEY} is set; {@code OPENROUTER_BASE_URL}) and the built-in
 * extractive provider last, so a fresh stack answers offline.
 *
 * <pre>{@code
 * "router": {
 *   "defaultModel": "default",
 *   "deployments": [{"name": "ollama/llama3.2", "provider": "ollama", "model": "llama3.2",
 *                    "baseUrl": "http://127.0.0.1:11434", "timeoutMs": 60000,
 *                    "inputPriceMicrosPerMtok": 0, "outputPriceMicrosPerMtok": 0},
 *                   {"name": "claude", "provider": "anthropic", "model": "claude-3-5-haiku-latest",
 *                    "apiKeyEnv": "ANTHROPIC_API_KEY"}, {"name": "extractive", "provider": "extractive"}],
 *   "aliases": {"default": ["ollama/llama3.2", "claude", "extractive"]},
 *   "cooldown": {"failureThreshold": 3, "durationMs": 30000},
 *   "retry": {"maxAttempts": 2, "waitMs": 50, "budgetRatio": 0.2, "budgetCap": 10},
 *   "connectTimeoutMs": 2000,
 *   "budgets": {"tenants": {"acme": {"tokens": 100000, "costMicros": 5000000}}},
 *   "cache": {"maxEntries": 1000, "ttlMs": 300000} }
 * }</pre>
 * Deployments whose {@code apiKeyEnv} is not set are left out (and out of the aliases). Keys are read
 * from the environment only and never printed. Budgets: see {@link BudgetConfig}.
 */
public record RouterConfig(List<Deployment> deployments, Map<String, List<String>> aliases, String defaultModel,
                           String ollamaBaseUrl, int failureThreshold, Duration cooldown, int maxAttempts,
                           Duration retryWait, double budgetRatio, double budgetCap, Duration connectTimeout,
                           BudgetConfig budgets, long cacheMaxEntries, Duration cacheTtl) {

    private static final Logger logger = LoggerFactory.getLogger(RouterConfig.class);
    private static final String DEFAULT_ALIAS = "default";
    private static final long DEFAULT_TIMEOUT_MS = 60_000;

    /** The keys of {@code services.router}, each declared once. */
    @ConfigKey("The model router.")
    public record Keys(
            @ConfigKey("The models it may call, replacing the defaults.") List<DeploymentKeys> deployments,
            @ConfigKey(value = "Alias to an ordered fallback chain of deployment names.", element = "Deployment names.")
            Map<String, List<String>> aliases,
            @ConfigKey(value = "The alias used when a request names none.", def = DEFAULT_ALIAS) String defaultModel,
            @ConfigKey("A failing deployment is cooled down.") Cooldown cooldown,
            @ConfigKey("The one retry layer.") Retry retry,
            @ConfigKey(value = "Connecting to a provider.", def = "2000") long connectTimeoutMs,
            @ConfigKey("Token and cost budgets per tenant.") BudgetConfig budgets,
            @ConfigKey("Answers of deterministic chats (temperature 0), reused per tenant.") Cache cache) {}

    @ConfigKey("One deployment.")
    public record DeploymentKeys(
            @ConfigKey("Its name in aliases and the ledger.") String name,
            @ConfigKey("ollama, anthropic, openai or extractive.") String provider,
            @ConfigKey("The provider's model name.") String model,
            @ConfigKey(value = "The provider's URL.", shown = "the provider's") String baseUrl,
            @ConfigKey("The environment variable holding its key (left out when unset).") String apiKeyEnv,
            @ConfigKey(value = "Per call.", def = "60000") long timeoutMs,
            @ConfigKey(value = "Price of input.", def = "0") long inputPriceMicrosPerMtok,
            @ConfigKey(value = "Price of output.", def = "0") long outputPriceMicrosPerMtok) {}

    public record Cooldown(@ConfigKey(value = "Failures before it is.", def = "3") int failureThreshold,
                           @ConfigKey(value = "For how long.", def = "30000") long durationMs) {}

    public record Retry(@ConfigKey(value = "Attempts per deployment.", def = "2") int maxAttempts,
                        @ConfigKey(value = "Between attempts.", def = "50") long waitMs,
                        @ConfigKey(value = "Retries per request, as a share.", def = "0.2") double budgetRatio,
                        @ConfigKey(value = "Retry tokens at most.", def = "10") double budgetCap) {}

    public record Cache(@ConfigKey(value = "Answers kept at most; 0 turns the cache off.", def = "1000")
                        long maxEntries,
                        @ConfigKey(value = "How long an answer is reused after it was given; 0 turns the cache off.",
                                   def = "300000") long ttlMs) {}

    public static RouterConfig from(StackConfig stack) {
        final Keys keys = stack.service("router", Keys.class);
        final String ollamaBaseUrl = orDefault(stack.env("OLLAMA_BASE_URL"), "http://127.0.0.1:11434");
        final List<Deployment> deployments = new ArrayList<>();
        final Map<String, List<String>> aliases = new LinkedHashMap<>();
        if (keys.deployments() != null) {
            for (DeploymentKeys node : keys.deployments()) {
                final Deployment d = deployment(node, stack, ollamaBaseUrl);
                if (d != null) {
                    deployments.add(d);
                }
            }
        } else {
            deployments.addAll(defaults(stack, ollamaBaseUrl));
        }
        final List<String> names = deployments.stream().map(Deployment::name).toList();
        if (keys.aliases() != null) {
            keys.aliases().forEach((alias, members) -> aliases.put(alias, members.stream().filter(
                    n -> names.contains(n) || !skipped(keys, n, stack)).toList()));
        }
        aliases.putIfAbsent(DEFAULT_ALIAS, names);
        return new RouterConfig(List.copyOf(deployments), Map.copyOf(aliases), keys.defaultModel(), ollamaBaseUrl,
                                keys.cooldown().failureThreshold(), Duration.ofMillis(keys.cooldown().durationMs()),
                                keys.retry().maxAttempts(), Duration.ofMillis(keys.retry().waitMs()),
                                keys.retry().budgetRatio(), keys.retry().budgetCap(),
                                Duration.ofMillis(keys.connectTimeoutMs()), keys.budgets(),
                                keys.cache().maxEntries(), Duration.ofMillis(keys.cache().ttlMs()));
    }

    private static List<Deployment> defaults(StackConfig stack, String ollamaBaseUrl) {
        final List<Deployment> list = new ArrayList<>();
        final String ollamaModel = orDefault(stack.env("OLLAMA_MODEL"), "llama3.2");
        list.add(new Deployment("ollama/" + ollamaModel, "ollama", ollamaModel, ollamaBaseUrl, null,
                                Duration.ofMillis(DEFAULT_TIMEOUT_MS), 0, 0));
        addHosted(list, stack, "ANTHROPIC", "anthropic", "claude-3-5-haiku-latest", "https://api.anthropic.com/v1",
                  800_000, 4_000_000);
        addHosted(list, stack, "OPENROUTER", "openai", "openai/gpt-4o-mini", "https://openrouter.ai/api/v1",
                  150_000, 600_000);
        list.add(extractive());
        return list;
    }

    /**
     * A hosted provider's deployment, named {@code <prefix in lower case>/<model>}, when {@code <PREFIX>_API_KEY}
     * is set; {@code <PREFIX>_MODEL} and {@code <PREFIX>_BASE_URL} override the model and the URL.
     */
    private static void addHosted(List<Deployment> list, StackConfig stack, String prefix, String provider,
                                  String model, String baseUrl, long inputPrice, long outputPrice) {
        final String key = stack.env(prefix + "_API_KEY");
        if (key != null) {
            final String chosen = orDefault(stack.env(prefix + "_MODEL"), model);
            list.add(new Deployment(prefix.toLowerCase(Locale.ROOT) + '/' + chosen, provider, chosen,
                                    orDefault(stack.env(prefix + "_BASE_URL"), baseUrl), key,
                                    Duration.ofMillis(DEFAULT_TIMEOUT_MS), inputPrice, outputPrice));
        }
    }

    private static Deployment extractive() {
        return new Deployment(ExtractiveProvider.NAME, ExtractiveProvider.NAME, "extractive-bm25", "builtin:", null,
                              Duration.ofMillis(DEFAULT_TIMEOUT_MS), 0, 0);
    }

    private static Deployment deployment(DeploymentKeys node, StackConfig stack, String ollamaBaseUrl) {
        final String provider = required(node, node.provider(), "provider");
        if (ExtractiveProvider.NAME.equals(provider)) {
            return new Deployment(orDefault(node.name(), ExtractiveProvider.NAME), provider, "extractive-bm25",
                                  "builtin:", null, Duration.ofMillis(DEFAULT_TIMEOUT_MS), 0, 0);
        }
        final String name = required(node, node.name(), "name");
        String apiKey = null;
        if (node.apiKeyEnv() != null) {
            apiKey = stack.env(node.apiKeyEnv());
            if (apiKey == null) {
                logger.info("Deployment {} left out: {} is not set", name, node.apiKeyEnv());
                return null;
            }
        }
        final String baseUrl = node.baseUrl() != null ? node.baseUrl() : switch (provider) {
            case "ollama" -> ollamaBaseUrl;
            case "anthropic" -> orDefault(stack.env("ANTHROPIC_BASE_URL"), "https://api.anthropic.com/v1");
            case "openai" -> orDefault(stack.env("OPENROUTER_BASE_URL"), "https://openrouter.ai/api/v1");
            default -> throw new IllegalArgumentException("deployments." + name + ".provider: unknown " + provider
                                                          + " (expected: ollama, anthropic, openai, extractive)");
        };
        return new Deployment(name, provider, required(node, node.model(), "model"), baseUrl, apiKey,
                              Duration.ofMillis(node.timeoutMs()), node.inputPriceMicrosPerMtok(),
                              node.outputPriceMicrosPerMtok());
    }

    /** True when the name belongs to a configured deployment left out for a missing key. */
    private static boolean skipped(Keys keys, String name, StackConfig stack) {
        for (DeploymentKeys node : keys.deployments() == null ? List.<DeploymentKeys>of() : keys.deployments()) {
            if (name.equals(node.name()) && node.apiKeyEnv() != null) {
                return stack.env(node.apiKeyEnv()) == null;
            }
        }
        return false;
    }

    private static String required(DeploymentKeys node, String value, String field) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("services.router.deployments: " + field + " is required in " + node);
        }
        return value;
    }

    private static String orDefault(String value, String fallback) {
        return value == null ? fallback : value;
    }
}

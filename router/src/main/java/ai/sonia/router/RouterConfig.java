package ai.sonia.router;

import ai.sonia.runtime.ConfigSchema;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;

import ai.sonia.router.domain.Deployment;
import ai.sonia.router.provider.ExtractiveProvider;
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
 *   "budgets": {"tenants": {"acme": {"tokens": 100000, "costMicros": 5000000}}} }
 * }</pre>
 * Deployments whose {@code apiKeyEnv} is not set are left out (and out of the aliases). Keys are read
 * from the environment only and never printed. Budgets: see {@link BudgetConfig}.
 */
public record RouterConfig(List<Deployment> deployments, Map<String, List<String>> aliases, String defaultModel,
                           String ollamaBaseUrl, int failureThreshold, Duration cooldown, int maxAttempts,
                           Duration retryWait, double budgetRatio, double budgetCap, Duration connectTimeout,
                           BudgetConfig budgets) {

    private static final Logger logger = LoggerFactory.getLogger(RouterConfig.class);
    private static final String DEFAULT_ALIAS = "default";
    private static final long DEFAULT_TIMEOUT_MS = 60_000;

    /** The keys of {@code services.router}. */
    public static ConfigSchema schema() {
        final ConfigSchema limits = ConfigSchema.object("Monthly limits (UTC calendar month); 0 is unlimited.")
                .field("tokens", ConfigSchema.integer("Tokens a month.", 0))
                .field("costMicros", ConfigSchema.integer("Cost a month, in millionths of a dollar.", 0));
        return ConfigSchema.object("The model router.")
                .field("deployments", ConfigSchema.list("The models it may call, replacing the defaults.",
                        ConfigSchema.object("One deployment.")
                                .field("name", ConfigSchema.string("Its name in aliases and the ledger.", null))
                                .field("provider", ConfigSchema.string("ollama, anthropic, openai or extractive.", null))
                                .field("model", ConfigSchema.string("The provider's model name.", null))
                                .field("baseUrl", ConfigSchema.string("The provider's URL.", "the provider's"))
                                .field("apiKeyEnv", ConfigSchema.string(
                                        "The environment variable holding its key (left out when unset).", null))
                                .field("timeoutMs", ConfigSchema.integer("Per call.", DEFAULT_TIMEOUT_MS))
                                .field("inputPriceMicrosPerMtok", ConfigSchema.integer("Price of input.", 0))
                                .field("outputPriceMicrosPerMtok", ConfigSchema.integer("Price of output.", 0))))
                .field("aliases", ConfigSchema.map("Alias to an ordered fallback chain of deployment names.",
                                                   ConfigSchema.strings("Deployment names.", null)))
                .field("defaultModel", ConfigSchema.string("The alias used when a request names none.", DEFAULT_ALIAS))
                .field("cooldown", ConfigSchema.object("A failing deployment is cooled down.")
                        .field("failureThreshold", ConfigSchema.integer("Failures before it is.", 3))
                        .field("durationMs", ConfigSchema.integer("For how long.", 30_000)))
                .field("retry", ConfigSchema.object("The one retry layer.")
                        .field("maxAttempts", ConfigSchema.integer("Attempts per deployment.", 2))
                        .field("waitMs", ConfigSchema.integer("Between attempts.", 50))
                        .field("budgetRatio", ConfigSchema.number("Retries per request, as a share.", 0.2))
                        .field("budgetCap", ConfigSchema.number("Retry tokens at most.", 10)))
                .field("connectTimeoutMs", ConfigSchema.integer("Connecting to a provider.", 2_000))
                .field("budgets", ConfigSchema.object("Token and cost budgets per tenant.")
                        .field("default", limits)
                        .field("tenants", ConfigSchema.map("Per tenant, by its name.", limits))
                        .field("defaultOutputTokens", ConfigSchema.integer(
                                "What a call without max_tokens reserves for its answer.", 4096)));
    }

    public static RouterConfig from(StackConfig stack) {
        final JsonNode section = stack.service("router");
        final String ollamaBaseUrl = orDefault(stack.env("OLLAMA_BASE_URL"), "http://127.0.0.1:11434");
        final List<Deployment> deployments = new ArrayList<>();
        final Map<String, List<String>> aliases = new LinkedHashMap<>();
        if (section.has("deployments")) {
            for (JsonNode node : section.path("deployments")) {
                final Deployment d = deployment(node, stack, ollamaBaseUrl);
                if (d != null) {
                    deployments.add(d);
                }
            }
        } else {
            deployments.addAll(defaults(stack, ollamaBaseUrl));
        }
        final List<String> names = deployments.stream().map(Deployment::name).toList();
        if (section.has("aliases")) {
            section.path("aliases").fields().forEachRemaining(e -> {
                final List<String> chain = new ArrayList<>();
                e.getValue().forEach(n -> {
                    if (names.contains(n.asText()) || !skipped(section, n.asText(), stack)) {
                        chain.add(n.asText());
                    }
                });
                aliases.put(e.getKey(), List.copyOf(chain));
            });
        }
        aliases.putIfAbsent(DEFAULT_ALIAS, names);
        final JsonNode cooldown = section.path("cooldown");
        final JsonNode retry = section.path("retry");
        return new RouterConfig(List.copyOf(deployments), Map.copyOf(aliases),
                                section.path("defaultModel").asText(DEFAULT_ALIAS), ollamaBaseUrl,
                                cooldown.path("failureThreshold").asInt(3),
                                Duration.ofMillis(cooldown.path("durationMs").asLong(30_000)),
                                retry.path("maxAttempts").asInt(2), Duration.ofMillis(retry.path("waitMs").asLong(50)),
                                retry.path("budgetRatio").asDouble(0.2), retry.path("budgetCap").asDouble(10),
                                Duration.ofMillis(section.path("connectTimeoutMs").asLong(2_000)),
                                BudgetConfig.from(section.path("budgets")));
    }

    private static List<Deployment> defaults(StackConfig stack, String ollamaBaseUrl) {
        final List<Deployment> list = new ArrayList<>();
        final String ollamaModel = orDefault(stack.env("OLLAMA_MODEL"), "llama3.2");
        list.add(new Deployment("ollama/" + ollamaModel, "ollama", ollamaModel, ollamaBaseUrl, null,
                                Duration.ofMillis(DEFAULT_TIMEOUT_MS), 0, 0));
        final String anthropicKey = stack.env("ANTHROPIC_API_KEY");
        if (anthropicKey != null) {
            final String model = orDefault(stack.env("ANTHROPIC_MODEL"), "claude-3-5-haiku-latest");
            list.add(new Deployment("anthropic/" + model, "anthropic", model,
                                    orDefault(stack.env("ANTHROPIC_BASE_URL"), "https://api.anthropic.com/v1"),
                                    anthropicKey, Duration.ofMillis(DEFAULT_TIMEOUT_MS), 800_000, 4_000_000));
        }
        final String openRouterKey = stack.env("OPENROUTER_API_KEY");
        if (openRouterKey != null) {
            final String model = orDefault(stack.env("OPENROUTER_MODEL"), "openai/gpt-4o-mini");
            list.add(new Deployment("openrouter/" + model, "openai", model,
                                    orDefault(stack.env("OPENROUTER_BASE_URL"), "https://openrouter.ai/api/v1"),
                                    openRouterKey, Duration.ofMillis(DEFAULT_TIMEOUT_MS), 150_000, 600_000));
        }
        list.add(extractive());
        return list;
    }

    private static Deployment extractive() {
        return new Deployment(ExtractiveProvider.NAME, ExtractiveProvider.NAME, "extractive-bm25", "builtin:", null,
                              Duration.ofMillis(DEFAULT_TIMEOUT_MS), 0, 0);
    }

    private static Deployment deployment(JsonNode node, StackConfig stack, String ollamaBaseUrl) {
        final String provider = required(node, "provider");
        if (ExtractiveProvider.NAME.equals(provider)) {
            return new Deployment(node.path("name").asText(ExtractiveProvider.NAME), provider, "extractive-bm25",
                                  "builtin:", null, Duration.ofMillis(DEFAULT_TIMEOUT_MS), 0, 0);
        }
        final String name = required(node, "name");
        String apiKey = null;
        if (node.hasNonNull("apiKeyEnv")) {
            apiKey = stack.env(node.path("apiKeyEnv").asText());
            if (apiKey == null) {
                logger.info("Deployment {} left out: {} is not set", name, node.path("apiKeyEnv").asText());
                return null;
            }
        }
        final String baseUrl = node.hasNonNull("baseUrl") ? node.path("baseUrl").asText() : switch (provider) {
            case "ollama" -> ollamaBaseUrl;
            case "anthropic" -> orDefault(stack.env("ANTHROPIC_BASE_URL"), "https://api.anthropic.com/v1");
            case "openai" -> orDefault(stack.env("OPENROUTER_BASE_URL"), "https://openrouter.ai/api/v1");
            default -> throw new IllegalArgumentException("deployments." + name + ".provider: unknown " + provider
                                                          + " (expected: ollama, anthropic, openai, extractive)");
        };
        return new Deployment(name, provider, required(node, "model"), baseUrl, apiKey,
                              Duration.ofMillis(node.path("timeoutMs").asLong(DEFAULT_TIMEOUT_MS)),
                              node.path("inputPriceMicrosPerMtok").asLong(0),
                              node.path("outputPriceMicrosPerMtok").asLong(0));
    }

    /** True when the name belongs to a configured deployment left out for a missing key. */
    private static boolean skipped(JsonNode section, String name, StackConfig stack) {
        for (JsonNode node : section.path("deployments")) {
            if (name.equals(node.path("name").asText()) && node.hasNonNull("apiKeyEnv")) {
                return stack.env(node.path("apiKeyEnv").asText()) == null;
            }
        }
        return false;
    }

    private static String required(JsonNode node, String field) {
        final String value = node.path(field).asText("");
        if (value.isEmpty()) {
            throw new IllegalArgumentException("services.router.deployments: " + field + " is required in " + node);
        }
        return value;
    }

    private static String orDefault(String value, String fallback) {
        return value == null ? fallback : value;
    }
}

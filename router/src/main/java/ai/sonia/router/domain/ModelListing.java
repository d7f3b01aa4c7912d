package ai.sonia.router.domain;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

import javax.annotation.Nullable;

/**
 * The models a caller can use: every configured deployment with its health and cooldown, then the
 * models each distinct Ollama server reports live that no deployment names yet (callable by their
 * {@code ollama/<model>} name once configured).
 */
public final class ModelListing {

    /** One listed model. */
    public record Entry(String name, String provider, String providerModel, List<String> aliases, boolean live,
                        boolean healthy, @Nullable Instant cooldownUntil, long inputPrice, long outputPrice) {}

    private final ModelCatalog catalog;
    private final HealthBoard health;
    private final Function<String, List<String>> liveOllamaModels;

    public ModelListing(ModelCatalog catalog, HealthBoard health, Function<String, List<String>> liveOllamaModels) {
        this.catalog = catalog;
        this.health = health;
        this.liveOllamaModels = liveOllamaModels;
    }

    public List<Entry> list() {
        final Set<String> ollamaUrls = new LinkedHashSet<>();
        catalog.deployments().stream().filter(d -> "ollama".equals(d.provider()))
               .forEach(d -> ollamaUrls.add(d.baseUrl()));
        final Set<String> live = new LinkedHashSet<>();
        final List<Entry> entries = new ArrayList<>();
        for (String url : ollamaUrls) {
            liveOllamaModels.apply(url).forEach(m -> live.add(url + ' ' + m));
        }
        for (Deployment d : catalog.deployments()) {
            final boolean isLive = "extractive".equals(d.provider())
                                   || live.remove(d.baseUrl() + ' ' + d.providerModel())
                                   || live.remove(d.baseUrl() + ' ' + d.providerModel() + ":latest");
            entries.add(new Entry(d.name(), d.provider(), d.providerModel(), catalog.aliasesOf(d.name()), isLive,
                                  health.healthy(d.name()), health.cooldownUntil(d.name()),
                                  d.inputPriceMicrosPerMtok(), d.outputPriceMicrosPerMtok()));
        }
        for (String key : live) {
            final String model = key.substring(key.indexOf(' ') + 1);
            entries.add(new Entry("ollama/" + model, "ollama", model, List.of(), true, true, null, 0, 0));
        }
        return entries;
    }
}

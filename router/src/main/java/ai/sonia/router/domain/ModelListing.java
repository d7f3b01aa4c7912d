package ai.sonia.router.domain;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

import javax.annotation.Nullable;
import ai.sonia.runtime.errors.DomainException;

/**
 * The models a caller can use: every configured deployment with its health and cooldown, then the
 * models each distinct Ollama server reports live that no deployment names yet (callable by their
 * {@code ollama/<model>} name once configured).
 */
public final class ModelListing {

    /** One listed model. */
    public record Entry(String name, String provider, String providerModel, List<String> aliases, boolean live,
                        boolean healthy, @Nullable Instant cooldownUntil, long inputPrice, long outputPrice) {}

    private static final int DEFAULT_PAGE_SIZE = 100;

    private final ModelCatalog catalog;
    private final HealthBoard health;
    private final Function<String, List<String>> liveOllamaModels;

    public ModelListing(ModelCatalog catalog, HealthBoard health, Function<String, List<String>> liveOllamaModels) {
        this.catalog = catalog;
        this.health = health;
        this.liveOllamaModels = liveOllamaModels;
    }

    /** One page of the listing, and the token of the next (empty on the last). */
    public record Page(List<Entry> entries, String nextPageToken) {}

    /** The page of at most {@code pageSize} entries (0 for the default) from {@code pageToken} on. */
    public Page page(int pageSize, String pageToken) {
        if (pageSize < 0) {
            throw DomainException.invalidArgument("page_size", pageSize + " (expected: >= 0)");
        }
        final int size = pageSize == 0 ? DEFAULT_PAGE_SIZE : pageSize;
        final int offset = offset(pageToken);
        final List<Entry> all = list();
        final List<Entry> entries = all.stream().skip(offset).limit(size).toList();
        return new Page(entries, offset + size < all.size() ? String.valueOf(offset + size) : "");
    }

    private static int offset(String token) {
        if (token.isEmpty()) {
            return 0;
        }
        try {
            final int offset = Integer.parseInt(token);
            if (offset < 0) {
                throw new NumberFormatException();
            }
            return offset;
        } catch (NumberFormatException e) {
            throw DomainException.invalidArgument("page_token", "not a token this server issued");
        }
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

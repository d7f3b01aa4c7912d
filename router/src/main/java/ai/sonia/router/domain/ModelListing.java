package ai.sonia.router.domain;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

import javax.annotation.Nullable;

import ai.sonia.runtime.errors.DomainException;
import ai.sonia.runtime.paging.PageTokens;

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
    private static final int MAX_PAGE_SIZE = 1000;
    private static final String QUERY = "ListModels";
    private static final String DEPLOYMENT = "deployment";
    private static final String LIVE = "live";

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

    /**
     * The page of at most {@code pageSize} entries (0 for the default) after the one {@code pageToken} names.
     * The key of an entry is its section and name: configured deployments keep their order, live models are
     * in name order, so models that appear or vanish between pages never make another one skipped or repeated.
     */
    public Page page(int pageSize, String pageToken) {
        final int size = PageTokens.pageSize(pageSize, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
        final List<Entry> all = list();
        final int from = PageTokens.after(pageToken, QUERY).map(key -> start(all, key)).orElse(0);
        final List<Entry> entries = all.subList(Math.min(from, all.size()), Math.min(from + size, all.size()));
        if (from + size >= all.size()) {
            return new Page(List.copyOf(entries), "");
        }
        final int last = from + entries.size() - 1;
        final String section = last < catalog.deployments().size() ? DEPLOYMENT : LIVE;
        return new Page(List.copyOf(entries), PageTokens.next(QUERY, List.of(section, all.get(last).name())));
    }

    /** Where the page after the entry with {@code key} starts in {@code all}. */
    private int start(List<Entry> all, List<String> key) {
        if (key.size() != 2 || !(DEPLOYMENT.equals(key.get(0)) || LIVE.equals(key.get(0)))) {
            throw DomainException.invalidArgument("page_token", "not a page token of this list");
        }
        final int deployments = catalog.deployments().size();
        if (DEPLOYMENT.equals(key.get(0))) {
            for (int i = 0; i < deployments; i++) {
                if (all.get(i).name().equals(key.get(1))) {
                    return i + 1;
                }
            }
            throw DomainException.invalidArgument("page_token", "the deployments changed; start again without one");
        }
        int i = deployments;
        while (i < all.size() && all.get(i).name().compareTo(key.get(1)) <= 0) {
            i++;
        }
        return i;
    }

    /** Every configured deployment in order, then the live models no deployment names, by name. */
    private List<Entry> list() {
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
        live.stream().map(key -> key.substring(key.indexOf(' ') + 1)).distinct().sorted()
            .forEach(model -> entries.add(new Entry("ollama/" + model, "ollama", model, List.of(), true, true, null, 0,
                                                    0)));
        return entries;
    }
}

package ai.sonia.router.domain;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import ai.sonia.runtime.errors.DomainException;

/** The configured deployments and the aliases that chain them, in fallback order. */
public final class ModelCatalog {

    private final Map<String, Deployment> deployments = new LinkedHashMap<>();
    private final Map<String, List<Deployment>> aliases = new LinkedHashMap<>();
    private final String defaultAlias;

    public ModelCatalog(List<Deployment> deployments, Map<String, List<String>> aliases, String defaultAlias) {
        deployments.forEach(d -> {
            if (this.deployments.putIfAbsent(d.name(), d) != null) {
                throw new IllegalArgumentException("deployments: duplicate name " + d.name());
            }
        });
        aliases.forEach((alias, names) -> {
            if (this.deployments.containsKey(alias)) {
                throw new IllegalArgumentException("aliases: " + alias + " is also a deployment name");
            }
            this.aliases.put(alias, names.stream().map(name -> {
                final Deployment d = this.deployments.get(name);
                if (d == null) {
                    throw new IllegalArgumentException("aliases." + alias + ": unknown deployment " + name);
                }
                return d;
            }).toList());
        });
        if (!this.aliases.containsKey(defaultAlias)) {
            throw new IllegalArgumentException("defaultModel: " + defaultAlias + " is not an alias");
        }
        this.defaultAlias = defaultAlias;
    }

    /** The fallback chain of a model name or alias (empty means the default alias). */
    public List<Deployment> chain(String model) {
        final String name = model.isEmpty() ? defaultAlias : model;
        final List<Deployment> chain = aliases.get(name);
        if (chain != null) {
            return chain;
        }
        final Deployment single = deployments.get(name);
        if (single == null) {
            throw DomainException.invalidArgument("model", "unknown model or alias: " + name);
        }
        return List.of(single);
    }

    /** The alias a request is accounted under. */
    public String aliasOf(String model) {
        return model.isEmpty() ? defaultAlias : model;
    }

    public List<Deployment> deployments() {
        return List.copyOf(deployments.values());
    }

    /** The aliases whose chain includes the deployment. */
    public List<String> aliasesOf(String deployment) {
        return aliases.entrySet().stream()
                      .filter(e -> e.getValue().stream().anyMatch(d -> d.name().equals(deployment)))
                      .map(Map.Entry::getKey).toList();
    }
}

package ai.sonia.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.testing.Programs;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;

/**
 * The Kubernetes manifests under {@code deploy/k8s/base}, parsed into fabric8's typed model and checked against
 * the boot contract read from the proto descriptors ({@link Stack}): one Deployment and Service per service on
 * its contract port, liveness and readiness probes on it, resources, keys from the Secret, and network policies
 * that let only the gateway be reached from outside.
 */
class DeployManifestsTest {

    private static final Path BASE = Path.of("..", "..", "deploy", "k8s", "base");
    private static final Path CLUSTER = Path.of("..", "..", "deploy", "k8s", "overlays", "cluster");
    private static final YAMLMapper yaml = new YAMLMapper();
    private static final ObjectMapper json = JsonMapper.builder().build();
    private static final Map<String, Class<? extends HasMetadata>> KINDS =
            Map.of("Deployment", Deployment.class, "Service", Service.class, "ConfigMap", ConfigMap.class,
                   "PersistentVolumeClaim", PersistentVolumeClaim.class, "NetworkPolicy", NetworkPolicy.class);

    @Test
    void everyFileIsListedInTheKustomizationAndParsesIntoTheTypedModel() throws IOException {
        final JsonNode kustomization = yaml.readTree(BASE.resolve("kustomization.yaml").toFile());
        final List<String> listed = new ArrayList<>();
        kustomization.get("resources").forEach(r -> listed.add(r.asText()));
        try (Stream<Path> files = Files.list(BASE)) {
            assertThat(files.map(f -> f.getFileName().toString()).filter(f -> !f.equals("kustomization.yaml")))
                    .containsExactlyInAnyOrderElementsOf(listed);
        }
        assertThat(resources()).allSatisfy(r -> assertThat(r.getMetadata().getName()).isNotBlank());
    }

    @Test
    void oneDeploymentAndServicePerServiceOnTheContractPortWithProbes() throws IOException {
        final List<HasMetadata> resources = resources();
        for (ServiceSpec spec : Stack.SERVICES) {
            final Deployment deployment = find(resources, Deployment.class, spec.name());
            final Container container = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
            assertThat(container.getArgs()).as(spec.name()).containsExactly(spec.name());
            assertThat(container.getPorts()).singleElement().satisfies(p -> {
                assertThat(p.getContainerPort()).as(spec.name()).isEqualTo(spec.port());
                assertThat(p.getName()).isEqualTo("http");
            });
            final String scheme = spec == Stack.GATEWAY ? "HTTPS" : "HTTP"; // bound beyond loopback: TLS only
            assertProbe(container.getLivenessProbe(), "/livez", scheme);
            assertProbe(container.getReadinessProbe(), "/readyz", scheme);
            assertProbe(container.getStartupProbe(), "/livez", scheme);
            assertThat(container.getResources().getRequests()).containsKeys("cpu", "memory");
            assertThat(container.getResources().getLimits()).containsKeys("cpu", "memory");
            assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
            assertThat(container.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
            assertThat(deployment.getSpec().getTemplate().getSpec().getSecurityContext().getRunAsNonRoot()).isTrue();
            // One writer per SQLite store: one replica, never two during a rollout.
            assertThat(deployment.getSpec().getReplicas()).isEqualTo(1);
            assertThat(deployment.getSpec().getStrategy().getType()).isEqualTo("Recreate");
            for (String key : List.of("SONIA_JWT_SECRET", "SONIA_SERVICE_SECRET")) {
                final EnvVar env = container.getEnv().stream().filter(e -> e.getName().equals(key)).findFirst()
                                            .orElseThrow(() -> new AssertionError(spec.name() + " lacks " + key));
                assertThat(env.getValue()).isNull();
                assertThat(env.getValueFrom().getSecretKeyRef().getName()).isEqualTo("sonia-secrets");
                assertThat(env.getValueFrom().getSecretKeyRef().getKey()).isEqualTo(key);
            }

            final Service service = find(resources, Service.class, spec.name());
            assertThat(service.getSpec().getSelector())
                    .isEqualTo(deployment.getSpec().getTemplate().getMetadata().getLabels());
            final ServicePort port = service.getSpec().getPorts().get(0);
            assertThat(port.getPort()).as(spec.name()).isEqualTo(spec.port());
            assertThat(port.getTargetPort().getStrVal()).isEqualTo("http");
            find(resources, PersistentVolumeClaim.class, spec.name() + "-data");
        }
        assertThat(resources.stream().filter(Deployment.class::isInstance)).hasSize(Stack.SERVICES.size());
    }

    @Test
    void everyServiceFindsTheOthersAtTheirServiceNamesAndContractPorts() throws IOException {
        final Map<String, String> env = find(resources(), ConfigMap.class, "sonia-env").getData();
        for (ServiceSpec spec : Stack.SERVICES) {
            assertThat(env).containsEntry("SONIA_" + spec.name().toUpperCase(Locale.ROOT) + "_TARGET",
                                          spec.name() + ':' + spec.port());
        }
        assertThat(env).containsEntry("SONIA_BIND", "0.0.0.0");
        assertThat(env.keySet()).noneMatch(k -> k.contains("SECRET") || k.contains("KEY"));
    }

    @Test
    void onlyTheGatewayIsReachableFromOutside() throws IOException {
        final List<NetworkPolicy> policies = resources().stream().filter(NetworkPolicy.class::isInstance)
                                                        .map(NetworkPolicy.class::cast).toList();
        final NetworkPolicy deny = policies.stream().filter(p -> p.getSpec().getIngress().isEmpty()).findFirst()
                                           .orElseThrow();
        assertThat(deny.getSpec().getPodSelector().getMatchLabels()).containsEntry("app.kubernetes.io/part-of", "sonia");
        assertThat(deny.getSpec().getPolicyTypes()).containsExactly("Ingress");
        for (NetworkPolicy policy : policies) {
            for (NetworkPolicyIngressRule rule : policy.getSpec().getIngress()) {
                if (rule.getFrom().isEmpty()) {
                    // From anywhere: only the gateway's pods, only its port.
                    assertThat(policy.getSpec().getPodSelector().getMatchLabels())
                            .containsEntry("app.kubernetes.io/name", Stack.GATEWAY.name());
                    assertThat(rule.getPorts()).singleElement()
                            .satisfies(p -> assertThat(p.getPort().getIntVal()).isEqualTo(Stack.GATEWAY.port()));
                } else {
                    assertThat(rule.getFrom()).allSatisfy(peer -> {
                        assertThat(peer.getIpBlock()).isNull();
                        assertThat(peer.getNamespaceSelector()).isNull();
                        assertThat(peer.getPodSelector().getMatchLabels())
                                .containsEntry("app.kubernetes.io/part-of", "sonia");
                    });
                    assertThat(rule.getPorts().stream().map(p -> p.getPort().getIntVal()))
                            .containsExactlyInAnyOrderElementsOf(Stack.SERVICES.stream().map(ServiceSpec::port).toList());
                }
            }
        }
    }

    @Test
    void kubectlRendersTheKustomization() throws Exception {
        final String rendered = kustomize(BASE);
        final List<HasMetadata> parsed = parse(rendered);
        assertThat(parsed).hasSameSizeAs(resources());
        assertThat(parsed.stream().filter(Deployment.class::isInstance).map(Deployment.class::cast)
                         .map(d -> d.getSpec().getTemplate().getSpec().getContainers().get(0).getImage()))
                .containsOnly("sonia:0.1.0-SNAPSHOT");
    }

    /**
     * The cluster overlay: every file it names is there and parses (the PodDisruptionBudgets too, checked as
     * plain YAML: fabric8's policy model is not a dependency), and each budget selects its service's pods.
     */
    @Test
    void theClusterOverlayNamesItsFilesAndABudgetPerService() throws IOException {
        final JsonNode kustomization = yaml.readTree(CLUSTER.resolve("kustomization.yaml").toFile());
        for (JsonNode resource : kustomization.get("resources")) {
            assertThat(CLUSTER.resolve(resource.asText())).as(resource.asText()).exists();
        }
        for (JsonNode patch : kustomization.get("patches")) {
            if (patch.has("path")) {
                final Path file = CLUSTER.resolve(patch.get("path").asText());
                assertThat(file).exists();
                assertThat(yaml.readTree(file.toFile())).as(file.toString()).isNotNull();
            } else {
                assertThat(yaml.readTree(patch.get("patch").asText()).path("$patch").asText()).isEqualTo("delete");
            }
        }
        final List<JsonNode> budgets = documents(Files.readString(CLUSTER.resolve("disruption-budgets.yaml")));
        assertBudgets(budgets, resources().stream().filter(Deployment.class::isInstance).map(Deployment.class::cast)
                                          .toList());
    }

    /**
     * The overlay as kubectl renders it: every service in 2 replicas or more (the gateway 3), rolled without
     * going below them, stateless (no PVC, an emptyDir home), on the engines the ConfigMap selects, their
     * passwords as files of the mounted Secrets where the config reads them, ready only through /readyz
     * (which covers the engines), and a PodDisruptionBudget each.
     */
    @Test
    void kubectlRendersTheClusterOverlay() throws Exception {
        final String rendered = kustomize(CLUSTER);
        final List<JsonNode> documents = documents(rendered);
        assertThat(documents).noneMatch(d -> d.path("kind").asText().equals("PersistentVolumeClaim"));
        final List<HasMetadata> typed = typed(documents.stream().filter(
                d -> !d.path("kind").asText().equals("PodDisruptionBudget")).toList());
        final Map<String, String> env = find(typed, ConfigMap.class, "sonia-env").getData();
        assertThat(env).containsEntry("SONIA_STORE_ENGINE", "postgres").containsEntry("SONIA_SHARED_ENGINE", "redis");
        final List<Deployment> deployments = typed.stream().filter(Deployment.class::isInstance)
                                                  .map(Deployment.class::cast).toList();
        assertThat(deployments).hasSize(Stack.SERVICES.size());
        for (Deployment deployment : deployments) {
            final String name = deployment.getMetadata().getName();
            assertThat(deployment.getSpec().getReplicas()).as(name).isEqualTo(name.equals("gateway") ? 3 : 2);
            assertThat(deployment.getSpec().getStrategy().getType()).isEqualTo("RollingUpdate");
            assertThat(deployment.getSpec().getStrategy().getRollingUpdate().getMaxUnavailable().getIntVal()).isZero();
            final var pod = deployment.getSpec().getTemplate().getSpec();
            final Container container = pod.getContainers().get(0);
            assertProbe(container.getReadinessProbe(), "/readyz", name.equals("gateway") ? "HTTPS" : "HTTP");
            assertThat(pod.getVolumes()).noneMatch(v -> v.getPersistentVolumeClaim() != null);
            assertThat(pod.getVolumes()).filteredOn(v -> v.getName().equals("data"))
                                        .singleElement().satisfies(v -> assertThat(v.getEmptyDir()).isNotNull());
            final var engines = pod.getVolumes().stream().filter(v -> v.getName().equals("engines")).findFirst()
                                   .orElseThrow(() -> new AssertionError(name + " mounts no engine secrets"));
            final Map<String, String> files = new java.util.HashMap<>();
            engines.getProjected().getSources().forEach(source -> source.getSecret().getItems().forEach(
                    item -> files.put(item.getPath(), source.getSecret().getName() + '/' + item.getKey())));
            final String mount = container.getVolumeMounts().stream().filter(m -> m.getName().equals("engines"))
                                          .findFirst().orElseThrow().getMountPath();
            // The password files the config names are the mounted Secrets' keys.
            assertThat(files).containsEntry(Path.of(env.get("SONIA_STORE_POSTGRES_PASSWORD_FILE")).getFileName()
                                                .toString(), "sonia-postgres/password")
                             .containsEntry(Path.of(env.get("SONIA_SHARED_REDIS_PASSWORD_FILE")).getFileName()
                                                .toString(), "sonia-redis/password");
            assertThat(env.get("SONIA_STORE_POSTGRES_PASSWORD_FILE")).startsWith(mount + '/');
            assertThat(env.get("SONIA_SHARED_REDIS_PASSWORD_FILE")).startsWith(mount + '/');
            for (String[] ref : new String[][] {{"SONIA_STORE_POSTGRES_URL", "sonia-postgres", "url"},
                                                {"SONIA_STORE_POSTGRES_USER", "sonia-postgres", "user"},
                                                {"SONIA_SHARED_REDIS_URL", "sonia-redis", "url"}}) {
                final EnvVar var = container.getEnv().stream().filter(e -> e.getName().equals(ref[0])).findFirst()
                                            .orElseThrow(() -> new AssertionError(name + " lacks " + ref[0]));
                assertThat(var.getValueFrom().getSecretKeyRef().getName()).isEqualTo(ref[1]);
                assertThat(var.getValueFrom().getSecretKeyRef().getKey()).isEqualTo(ref[2]);
            }
        }
        assertBudgets(documents.stream().filter(d -> d.path("kind").asText().equals("PodDisruptionBudget")).toList(),
                      deployments);
    }

    /** One budget per service, selecting exactly its Deployment's pods, never letting all of them go at once. */
    private static void assertBudgets(List<JsonNode> budgets, List<Deployment> deployments) {
        assertThat(budgets).hasSize(Stack.SERVICES.size());
        for (Deployment deployment : deployments) {
            final JsonNode budget = budgets.stream()
                    .filter(b -> b.path("metadata").path("name").asText().equals(deployment.getMetadata().getName()))
                    .findFirst().orElseThrow(() -> new AssertionError("no budget for " + deployment.getMetadata().getName()));
            assertThat(budget.path("apiVersion").asText()).isEqualTo("policy/v1");
            final Map<String, String> selector = new java.util.HashMap<>();
            budget.path("spec").path("selector").path("matchLabels").fields()
                  .forEachRemaining(e -> selector.put(e.getKey(), e.getValue().asText()));
            assertThat(selector).isEqualTo(deployment.getSpec().getTemplate().getMetadata().getLabels());
            assertThat(budget.path("spec").path("maxUnavailable").asInt()).isEqualTo(1);
        }
    }

    /** What {@code kubectl kustomize} renders of {@code directory}; the test is skipped without kubectl. */
    private static String kustomize(Path directory) throws Exception {
        assumeTrue(Programs.onPath("kubectl"), "kubectl is not installed: the manifests are checked by parsing only");
        final Process process = new ProcessBuilder("kubectl", "kustomize", directory.toString())
                .redirectErrorStream(true).start();
        final String rendered = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(rendered).isZero();
        return rendered;
    }

    private static List<JsonNode> documents(String text) throws IOException {
        try (var parser = new YAMLFactory().createParser(text)) {
            return yaml.readValues(parser, JsonNode.class).readAll();
        }
    }

    private static void assertProbe(Probe probe, String path, String scheme) {
        assertThat(probe).isNotNull();
        assertThat(probe.getHttpGet().getPath()).isEqualTo(path);
        assertThat(probe.getHttpGet().getPort().getStrVal()).isEqualTo("http");
        assertThat(probe.getHttpGet().getScheme()).isEqualTo(scheme);
    }

    private static <T extends HasMetadata> T find(List<HasMetadata> resources, Class<T> type, String name) {
        return resources.stream().filter(type::isInstance).map(type::cast)
                        .filter(r -> r.getMetadata().getName().equals(name)).findFirst()
                        .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + ' ' + name));
    }

    private static List<HasMetadata> resources() throws IOException {
        final List<HasMetadata> all = new ArrayList<>();
        final JsonNode kustomization = yaml.readTree(BASE.resolve("kustomization.yaml").toFile());
        for (JsonNode file : kustomization.get("resources")) {
            all.addAll(parse(Files.readString(BASE.resolve(file.asText()))));
        }
        return all;
    }

    /** Every document of a multi-document YAML text, as its typed fabric8 model. */
    private static List<HasMetadata> parse(String text) throws IOException {
        return typed(documents(text));
    }

    private static List<HasMetadata> typed(List<JsonNode> documents) throws IOException {
        final List<HasMetadata> parsed = new ArrayList<>();
        for (JsonNode doc : documents) {
            final Class<? extends HasMetadata> type = KINDS.get(doc.path("kind").asText());
            assertThat(type).as("a known kind: " + doc.path("kind")).isNotNull();
            final HasMetadata resource = json.treeToValue(doc, type);
            // Strict: fabric8 keeps unknown fields aside; a misspelt one fails here, not in the cluster.
            assertNoUnknownFields(resource, doc.path("kind").asText());
            parsed.add(resource);
        }
        return parsed;
    }

    /** Walks the typed model: no object of it may hold fields its type does not know. */
    private static void assertNoUnknownFields(Object node, String where) {
        if (node == null || !node.getClass().getName().startsWith("io.fabric8.")) {
            if (node instanceof Iterable<?> items) {
                items.forEach(item -> assertNoUnknownFields(item, where));
            } else if (node instanceof Map<?, ?> map) {
                map.values().forEach(value -> assertNoUnknownFields(value, where));
            }
            return;
        }
        for (java.lang.reflect.Method getter : node.getClass().getMethods()) {
            if (getter.getParameterCount() != 0 || !getter.getName().startsWith("get")
                || getter.getDeclaringClass() == Object.class) {
                continue;
            }
            try {
                final Object value = getter.invoke(node);
                if (getter.getName().equals("getAdditionalProperties")) {
                    assertThat((Map<?, ?>) value).as("unknown fields in " + where + '/'
                                                     + node.getClass().getSimpleName()).isEmpty();
                } else {
                    assertNoUnknownFields(value, where + '/' + getter.getName().substring(3));
                }
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }
    }
}

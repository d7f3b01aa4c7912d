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
        assumeTrue(Programs.onPath("kubectl"), "kubectl is not installed: the kustomization is checked by parsing only");
        final Process process = new ProcessBuilder("kubectl", "kustomize", BASE.toString()).redirectErrorStream(true)
                                                                                            .start();
        final String rendered = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(rendered).isZero();
        final List<HasMetadata> parsed = parse(rendered);
        assertThat(parsed).hasSameSizeAs(resources());
        assertThat(parsed.stream().filter(Deployment.class::isInstance).map(Deployment.class::cast)
                         .map(d -> d.getSpec().getTemplate().getSpec().getContainers().get(0).getImage()))
                .containsOnly("sonia:0.1.0-SNAPSHOT");
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
        final List<HasMetadata> parsed = new ArrayList<>();
        try (var parser = new YAMLFactory().createParser(text)) {
            for (JsonNode doc : yaml.readValues(parser, JsonNode.class).readAll()) {
                final Class<? extends HasMetadata> type = KINDS.get(doc.path("kind").asText());
                assertThat(type).as("a known kind: " + doc.path("kind")).isNotNull();
                final HasMetadata resource = json.treeToValue(doc, type);
                // Strict: fabric8 keeps unknown fields aside; a misspelt one fails here, not in the cluster.
                assertNoUnknownFields(resource, doc.path("kind").asText());
                parsed.add(resource);
            }
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

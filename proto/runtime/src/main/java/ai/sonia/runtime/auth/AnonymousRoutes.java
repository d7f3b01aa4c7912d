package ai.sonia.runtime.auth;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

import com.google.api.AnnotationsProto;
import com.google.api.HttpRule;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;

import ai.sonia.options.v1.OptionsProto;

/**
 * The few routes reachable without a credential, read from the contract: the probes ({@code /healthz},
 * {@code /livez}, {@code /readyz}, {@code /health}, {@code /ready}), and the gRPC and
 * REST paths of methods marked {@code allow_anonymous} (login, refresh, open registration).
 */
final class AnonymousRoutes {

    private final Set<String> exact = new HashSet<>();
    private final List<Pattern> templates = new ArrayList<>();

    AnonymousRoutes(List<ServiceDescriptor> services) {
        // The probes: an orchestrator has no credential, and they say nothing a caller could misuse.
        exact.addAll(List.of("/healthz", "/livez", "/readyz", "/health", "/ready"));
        for (ServiceDescriptor service : services) {
            for (MethodDescriptor method : service.getMethods()) {
                if (method.getOptions().getExtension(OptionsProto.method).getAllowAnonymous()) {
                    exact.add('/' + service.getFullName() + '/' + method.getName());
                    final HttpRule rule = method.getOptions().getExtension(AnnotationsProto.http);
                    addRest(rule);
                    rule.getAdditionalBindingsList().forEach(this::addRest);
                }
            }
        }
    }

    boolean contains(String path) {
        if (exact.contains(path)) {
            return true;
        }
        for (Pattern template : templates) {
            if (template.matcher(path).matches()) {
                return true;
            }
        }
        return false;
    }

    private void addRest(HttpRule rule) {
        final String path = switch (rule.getPatternCase()) {
            case GET -> rule.getGet();
            case POST -> rule.getPost();
            case PUT -> rule.getPut();
            case DELETE -> rule.getDelete();
            case PATCH -> rule.getPatch();
            default -> "";
        };
        if (path.isEmpty()) {
            return;
        }
        if (path.indexOf('{') < 0) {
            exact.add(path);
        } else {
            templates.add(Pattern.compile(
                    String.join("[^/]+", List.of(path.split("\\{[^}]*}", -1)).stream().map(Pattern::quote).toList())));
        }
    }
}

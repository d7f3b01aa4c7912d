package ai.sonia.codegen;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.google.api.AnnotationsProto;
import com.google.api.HttpRule;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;

/** The REST routes of a service, from its {@code google.api.http} annotations. */
public final class HttpRoutes {

    private static final Pattern VARIABLE = Pattern.compile("\\{([a-z_.]+)(?:=([^}]*))?}");

    /**
     * One route: the HTTP verb, the path as a client types it ({@code /v1/memories/{name}}), the fields
     * bound from path segments, the body field ("*" for the whole request, "" for none), and which binding of
     * the method it is (0 for the rule itself, 1.. for its {@code additional_bindings} in order).
     */
    public record Route(String verb, String path, List<String> pathFields, String body, MethodDescriptor method,
                        int binding) {}

    /** Every route of every method, each method's own rule first, then its additional bindings. */
    public static List<Route> of(ServiceDescriptor service) {
        final List<Route> routes = new ArrayList<>();
        for (MethodDescriptor method : service.getMethods()) {
            if (!method.getOptions().hasExtension(AnnotationsProto.http)) {
                continue;
            }
            final HttpRule rule = method.getOptions().getExtension(AnnotationsProto.http);
            add(routes, method, rule, 0);
            for (int i = 0; i < rule.getAdditionalBindingsCount(); i++) {
                add(routes, method, rule.getAdditionalBindings(i), i + 1);
            }
        }
        return routes;
    }

    private static void add(List<Route> routes, MethodDescriptor method, HttpRule rule, int binding) {
        final String verb;
        final String template;
        switch (rule.getPatternCase()) {
            case GET -> { verb = "get"; template = rule.getGet(); }
            case POST -> { verb = "post"; template = rule.getPost(); }
            case PUT -> { verb = "put"; template = rule.getPut(); }
            case PATCH -> { verb = "patch"; template = rule.getPatch(); }
            case DELETE -> { verb = "delete"; template = rule.getDelete(); }
            default -> { return; }
        }
        final List<String> fields = new ArrayList<>();
        final Matcher m = VARIABLE.matcher(template);
        final StringBuilder path = new StringBuilder();
        while (m.find()) {
            fields.add(m.group(1));
            // {name=memories/*} is typed as memories/{name}: the literal part, then the variable.
            final String pattern = m.group(2);
            final String literal = pattern == null ? "" : pattern.replace("/*", "/").replace("*", "");
            m.appendReplacement(path, Matcher.quoteReplacement(literal + "{" + m.group(1) + "}"));
        }
        m.appendTail(path);
        routes.add(new Route(verb, path.toString(), List.copyOf(fields), rule.getBody(), method, binding));
    }

    private HttpRoutes() {}
}

package ai.sonia.codegen;

import java.util.Map;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import ai.sonia.common.v1.Envelope;
import ai.sonia.common.v1.Healthz;
import ai.sonia.common.v1.ServiceStatus;
import ai.sonia.runtime.ServiceSpec;

/** An OpenAPI 3.1 document of one service's REST surface: its transcoded routes and its status endpoints. */
public final class OpenApi {

    private static final JsonNodeFactory json = JsonNodeFactory.instance;
    private static final String COMPONENTS = "#/components/schemas/";

    public static ObjectNode of(ServiceSpec spec) {
        final JsonSchemas inputs = new JsonSchemas(JsonSchemas.Direction.INPUT, COMPONENTS, ".Input");
        final JsonSchemas outputs = new JsonSchemas(JsonSchemas.Direction.OUTPUT, COMPONENTS);
        final ObjectNode doc = json.objectNode();
        doc.put("openapi", "3.1.0");
        final ObjectNode info = doc.putObject("info");
        info.put("title", "Sonia " + spec.name());
        info.put("version", "v1");
        info.put("description", spec.summary() + ". Every response is the standard envelope "
                                + "(sonia.common.v1.Envelope): data on success, error with the HTTP status "
                                + "that the gRPC code implies otherwise. Generated from the proto contract.");
        doc.putArray("servers").addObject().put("url", "http://127.0.0.1:" + spec.port());
        // Closed by default: every operation needs a bearer credential unless it says otherwise.
        doc.putArray("security").addObject().putArray("bearer");
        final ObjectNode paths = doc.putObject("paths");

        final java.util.List<HttpRoutes.Route> routes = new java.util.ArrayList<>();
        spec.apis().forEach(api -> routes.addAll(HttpRoutes.of(api)));
        for (HttpRoutes.Route route : routes) {
            final MethodDescriptor method = route.method();
            final ObjectNode operation = child(paths, route.path()).putObject(route.verb());
            // An additional binding is the same call at another route; operation ids stay unique.
            operation.put("operationId", route.binding() == 0 ? method.getName()
                                                              : method.getName() + "_" + (route.binding() + 1));
            operation.put("summary", method.getService().getFullName() + "/" + method.getName());
            final long deadline = spec.deadlineMillis(method.getName());
            operation.put("x-sonia-deadline-ms", deadline);
            operation.put("x-sonia-idempotent", spec.idempotent(method.getName()));
            if (method.getOptions().getExtension(ai.sonia.options.v1.OptionsProto.method).getAllowAnonymous()) {
                operation.putArray("security").addObject(); // the {} requirement: no credential needed
            }
            if (method.isServerStreaming()) {
                operation.put("description", "Server streaming: served as Server-Sent Events by the service.");
            }
            final ArrayNode parameters = json.arrayNode();
            for (String field : route.pathFields()) {
                parameters.addObject().put("name", field).put("in", "path").put("required", true)
                          .putObject("schema").put("type", "string");
            }
            final Descriptor request = method.getInputType();
            if (route.body().isEmpty()) {
                for (FieldDescriptor field : request.getFields()) {
                    if (!route.pathFields().contains(field.getName()) && field.getType() != FieldDescriptor.Type.MESSAGE) {
                        parameters.addObject().put("name", field.getName()).put("in", "query")
                                  .set("schema", inputs.fieldSchema(field));
                    }
                }
            } else {
                final ObjectNode bodySchema = "*".equals(route.body())
                                              ? inputs.reference(request)
                                              : inputs.fieldSchema(request.findFieldByName(route.body()));
                operation.putObject("requestBody").put("required", true)
                         .putObject("content").putObject("application/json").set("schema", bodySchema);
            }
            if (!parameters.isEmpty()) {
                operation.set("parameters", parameters);
            }
            final ObjectNode responses = operation.putObject("responses");
            responses.set("200", method.isServerStreaming()
                                 ? eventStream(outputs.reference(method.getOutputType()))
                                 : envelopeResponse("Success", outputs.reference(method.getOutputType())));
            responses.set("default", envelopeResponse("Error envelope", null));
        }

        addStatusPath(paths, "/healthz", "Liveness: answers within 2 s.", outputs.reference(Healthz.getDescriptor()), false);
        addStatusPath(paths, "/health", "The seed's name for /healthz: the same answer.",
                      outputs.reference(Healthz.getDescriptor()), false);
        addStatusPath(paths, "/", "Root status.", outputs.reference(ServiceStatus.getDescriptor()), true);
        addStatusPath(paths, "/status", "Detailed status with live dependency probes.",
                      outputs.reference(ServiceStatus.getDescriptor()), true);

        ((ObjectNode) paths.get("/healthz").get("get")).putArray("security").addObject();
        ((ObjectNode) paths.get("/health").get("get")).putArray("security").addObject();
        final ObjectNode components = doc.putObject("components");
        components.putObject("securitySchemes").putObject("bearer")
                  .put("type", "http").put("scheme", "bearer")
                  .put("description", "A user's access token (JWT, from POST /api/auth/login on the gateway), an "
                                      + "API key (sonia_sk_..., at the gateway), or a service credential.");
        final ObjectNode schemas = components.putObject("schemas");
        schemas.set(Envelope.getDescriptor().getFullName(), EnvelopeSchema.schema().deepCopy()
                                                                        .without(java.util.List.of("$schema", "$id", "$defs")));
        final Map<String, ObjectNode> all = new java.util.TreeMap<>(outputs.definitions());
        all.putAll(inputs.definitions());
        all.forEach(schemas::set);
        // The envelope's own nested types keep their standalone definitions.
        ((ObjectNode) EnvelopeSchema.schema().get("$defs")).fields().forEachRemaining(e -> schemas.set(e.getKey(), e.getValue()));
        rewriteRefs(doc, "#/$defs/", COMPONENTS);
        return doc;
    }

    /** The object under a literal key ({@code ObjectNode#with} would read "/v1/..." as a JSON pointer). */
    private static ObjectNode child(ObjectNode parent, String key) {
        final com.fasterxml.jackson.databind.JsonNode existing = parent.get(key);
        return existing instanceof ObjectNode object ? object : parent.putObject(key);
    }

    /** A stream of Server-Sent Events, each one message (how each service reports a failure is in its comment). */
    private static ObjectNode eventStream(ObjectNode message) {
        final ObjectNode response = json.objectNode();
        response.put("description", "Server-Sent Events: one event per message, its data the message's JSON.");
        response.putObject("content").putObject("text/event-stream").set("schema", message);
        return response;
    }

    private static ObjectNode envelopeResponse(String description, ObjectNode data) {
        final ObjectNode response = json.objectNode();
        response.put("description", description);
        final ObjectNode schema = response.putObject("content").putObject("application/json").putObject("schema");
        if (data == null) {
            schema.put("$ref", COMPONENTS + Envelope.getDescriptor().getFullName());
            return response;
        }
        final ArrayNode allOf = schema.putArray("allOf");
        allOf.addObject().put("$ref", COMPONENTS + Envelope.getDescriptor().getFullName());
        allOf.addObject().putObject("properties").set("data", data);
        return response;
    }

    private static void addStatusPath(ObjectNode paths, String path, String summary, ObjectNode body, boolean envelope) {
        final ObjectNode get = child(paths, path).putObject("get");
        get.put("summary", summary);
        get.putObject("responses").set("200", envelope ? envelopeResponse("OK", body) : plain(body));
    }

    private static ObjectNode plain(ObjectNode schema) {
        final ObjectNode response = json.objectNode();
        response.put("description", "OK");
        response.putObject("content").putObject("application/json").set("schema", schema);
        return response;
    }

    /** The envelope's standalone schema refers to {@code #/$defs/}; inside OpenAPI they are components. */
    private static void rewriteRefs(com.fasterxml.jackson.databind.JsonNode node, String from, String to) {
        if (node instanceof ObjectNode object) {
            final com.fasterxml.jackson.databind.JsonNode ref = object.get("$ref");
            if (ref != null && ref.asText().startsWith(from)) {
                object.put("$ref", to + ref.asText().substring(from.length()));
            }
            object.elements().forEachRemaining(child -> rewriteRefs(child, from, to));
        } else if (node instanceof ArrayNode array) {
            array.elements().forEachRemaining(child -> rewriteRefs(child, from, to));
        }
    }

    private OpenApi() {}
}

package ai.sonia.router.grpc;

import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.sonia.common.v1.ToolDefinition;
import ai.sonia.router.domain.ChatCall;
import ai.sonia.router.domain.InvalidFieldException;
import ai.sonia.router.v1.Caller;
import ai.sonia.router.v1.ChatMessage;
import ai.sonia.router.v1.ChatRequest;
import ai.sonia.router.v1.ContextPassage;
import ai.sonia.router.v1.Role;
import ai.sonia.router.v1.StreamChatRequest;
import ai.sonia.runtime.auth.Principal;

/**
 * Validates chat requests and turns them into {@link ChatCall}s, naming the first bad field; the tenant and
 * principal charged come from the request's credential.
 */
final class ChatRequests {

    private static final ObjectMapper mapper = new ObjectMapper();
    private static final double MAX_TEMPERATURE = 2.0;

    static ChatCall toCall(ChatRequest r) {
        return call(r.getModel(), r.getMessagesList(), r.getContextList(), r.getToolsList(),
                    r.hasTemperature() ? r.getTemperature() : null, r.getMaxTokens(), r.getCaller(), false);
    }

    static ChatCall toCall(StreamChatRequest r) {
        return call(r.getModel(), r.getMessagesList(), r.getContextList(), r.getToolsList(),
                    r.hasTemperature() ? r.getTemperature() : null, r.getMaxTokens(), r.getCaller(),
                    r.getAllowMidstreamFallback());
    }

    private static ChatCall call(String model, List<ChatMessage> messages, List<ContextPassage> context,
                                 List<ToolDefinition> tools, Double temperature, int maxTokens, Caller caller,
                                 boolean allowMidstream) {
        if (messages.isEmpty()) {
            throw new InvalidFieldException("messages", "at least one message is required");
        }
        for (int i = 0; i < messages.size(); i++) {
            final Role role = messages.get(i).getRole();
            if (role == Role.ROLE_UNSPECIFIED || role == Role.UNRECOGNIZED) {
                throw new InvalidFieldException("messages[" + i + "].role", "must be set");
            }
            if (role == Role.ROLE_TOOL && messages.get(i).getToolCallId().isEmpty()) {
                throw new InvalidFieldException("messages[" + i + "].tool_call_id", "required for ROLE_TOOL");
            }
        }
        if (maxTokens < 0) {
            throw new InvalidFieldException("max_tokens", maxTokens + " (expected: >= 0)");
        }
        if (temperature != null && (temperature < 0 || temperature > MAX_TEMPERATURE || temperature.isNaN())) {
            throw new InvalidFieldException("temperature", temperature + " (expected: 0.." + MAX_TEMPERATURE + ")");
        }
        for (int i = 0; i < tools.size(); i++) {
            validateTool(i, tools.get(i));
        }
        // The credential decides who is charged: the body may only name the caller's own tenant.
        final Principal principal = Principal.current();
        return new ChatCall(model, messages, context, tools, temperature, maxTokens,
                            principal.tenantFor(caller.getTenant()), principal.audit(), allowMidstream);
    }

    private static void validateTool(int index, ToolDefinition tool) {
        if (tool.getName().isEmpty()) {
            throw new InvalidFieldException("tools[" + index + "].name", "must not be empty");
        }
        if (tool.getParametersJsonSchema().isEmpty()) {
            return;
        }
        final JsonNode schema;
        try {
            schema = mapper.readTree(tool.getParametersJsonSchema());
        } catch (Exception e) {
            throw new InvalidFieldException("tools[" + index + "].parameters_json_schema", "not valid JSON");
        }
        if (!schema.isObject() || !"object".equals(schema.path("type").asText())) {
            throw new InvalidFieldException("tools[" + index + "].parameters_json_schema",
                                            "expected a JSON Schema with \"type\": \"object\"");
        }
    }

    private ChatRequests() {}
}

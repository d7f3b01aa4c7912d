package ai.sonia.router.domain;

import java.util.List;

import javax.annotation.Nullable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.sonia.common.v1.ToolDefinition;
import ai.sonia.router.v1.ChatMessage;
import ai.sonia.router.v1.ContextPassage;
import ai.sonia.router.v1.Role;
import ai.sonia.runtime.errors.DomainException;

/** A validated chat request, as the router and its providers see it. */
public record ChatCall(String model, List<ChatMessage> messages, List<ContextPassage> context,
                       List<ToolDefinition> tools, @Nullable Double temperature, int maxTokens,
                       String tenant, String principal, boolean allowMidstreamFallover) {

    private static final ObjectMapper mapper = new ObjectMapper();
    private static final double MAX_TEMPERATURE = 2.0;

    public ChatCall {
        messages = List.copyOf(messages);
        context = List.copyOf(context);
        tools = List.copyOf(tools);
    }

    /** A call checked field by field; the first bad field is named in INVALID_ARGUMENT. */
    public static ChatCall of(String model, List<ChatMessage> messages, List<ContextPassage> context,
                              List<ToolDefinition> tools, @Nullable Double temperature, int maxTokens, String tenant,
                              String principal, boolean allowMidstreamFallover) {
        if (messages.isEmpty()) {
            throw DomainException.invalidArgument("messages", "at least one message is required");
        }
        for (int i = 0; i < messages.size(); i++) {
            final Role role = messages.get(i).getRole();
            if (role == Role.ROLE_UNSPECIFIED || role == Role.UNRECOGNIZED) {
                throw DomainException.invalidArgument("messages[" + i + "].role", "must be set");
            }
            if (role == Role.ROLE_TOOL && messages.get(i).getToolCallId().isEmpty()) {
                throw DomainException.invalidArgument("messages[" + i + "].tool_call_id", "required for ROLE_TOOL");
            }
        }
        if (maxTokens < 0) {
            throw DomainException.invalidArgument("max_tokens", maxTokens + " (expected: >= 0)");
        }
        if (temperature != null && (temperature < 0 || temperature > MAX_TEMPERATURE || temperature.isNaN())) {
            throw DomainException.invalidArgument("temperature",
                                                  temperature + " (expected: 0.." + MAX_TEMPERATURE + ")");
        }
        for (int i = 0; i < tools.size(); i++) {
            validateTool(i, tools.get(i));
        }
        return new ChatCall(model, messages, context, tools, temperature, maxTokens, tenant, principal,
                            allowMidstreamFallover);
    }

    /** The same call with its answer capped at {@code tokens}. */
    public ChatCall withMaxTokens(int tokens) {
        return new ChatCall(model, messages, context, tools, temperature, tokens, tenant, principal,
                            allowMidstreamFallover);
    }

    private static void validateTool(int index, ToolDefinition tool) {
        if (tool.getName().isEmpty()) {
            throw DomainException.invalidArgument("tools[" + index + "].name", "must not be empty");
        }
        if (tool.getParametersJsonSchema().isEmpty()) {
            return;
        }
        final JsonNode schema;
        try {
            schema = mapper.readTree(tool.getParametersJsonSchema());
        } catch (Exception e) {
            throw DomainException.invalidArgument("tools[" + index + "].parameters_json_schema", "not valid JSON");
        }
        if (!schema.isObject() || !"object".equals(schema.path("type").asText())) {
            throw DomainException.invalidArgument("tools[" + index + "].parameters_json_schema",
                                            "expected a JSON Schema with \"type\": \"object\"");
        }
    }
}

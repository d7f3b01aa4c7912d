package ai.sonia.router.provider;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import ai.sonia.common.v1.ToolCall;
import ai.sonia.common.v1.ToolDefinition;
import ai.sonia.router.domain.ChatCall;
import ai.sonia.router.domain.Completion;
import ai.sonia.router.domain.ProviderFailure;
import ai.sonia.router.v1.ChatMessage;
import ai.sonia.router.v1.ContextPassage;
import ai.sonia.router.v1.FinishReason;
import ai.sonia.runtime.errors.DomainException;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.internal.ToolSpecificationJsonUtils;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.TokenUsage;

/** Translates a router call into a LangChain4j request, and a LangChain4j response into a completion. */
final class Conversations {

    private static final ObjectMapper mapper = new ObjectMapper();

    static ChatRequest toRequest(ChatCall call) {
        final List<dev.langchain4j.data.message.ChatMessage> messages = new ArrayList<>();
        if (!call.context().isEmpty()) {
            messages.add(SystemMessage.from(contextPrompt(call.context())));
        }
        final Map<String, String> toolNamesById = new HashMap<>();
        for (ChatMessage m : call.messages()) {
            switch (m.getRole()) {
                case ROLE_SYSTEM -> messages.add(SystemMessage.from(m.getContent()));
                case ROLE_USER -> messages.add(UserMessage.from(m.getContent()));
                case ROLE_ASSISTANT -> {
                    final List<ToolExecutionRequest> calls = new ArrayList<>();
                    for (ToolCall c : m.getToolCallsList()) {
                        toolNamesById.put(c.getId(), c.getToolName());
                        calls.add(ToolExecutionRequest.builder().id(c.getId()).name(c.getToolName())
                                                      .arguments(c.getArgumentsJson()).build());
                    }
                    messages.add(calls.isEmpty() ? AiMessage.from(m.getContent())
                                                 : AiMessage.builder().text(m.getContent().isEmpty() ? null : m.getContent())
                                                            .toolExecutionRequests(calls).build());
                }
                case ROLE_TOOL -> messages.add(ToolExecutionResultMessage.from(
                        m.getToolCallId(), toolNamesById.getOrDefault(m.getToolCallId(), ""), m.getContent()));
                default -> throw DomainException.invalidArgument("messages.role", "unsupported role " + m.getRole());
            }
        }
        final ChatRequest.Builder request = ChatRequest.builder().messages(messages);
        if (!call.tools().isEmpty()) {
            request.toolSpecifications(call.tools().stream().map(Conversations::toSpecification).toList());
        }
        if (call.temperature() != null) {
            request.temperature(call.temperature());
        }
        if (call.maxTokens() > 0) {
            request.maxOutputTokens(call.maxTokens());
        }
        return request.build();
    }

    static Completion toCompletion(ChatResponse response, String fallbackModel) {
        final AiMessage message = response.aiMessage();
        final List<ToolCall> toolCalls = new ArrayList<>();
        if (message.hasToolExecutionRequests()) {
            for (ToolExecutionRequest r : message.toolExecutionRequests()) {
                toolCalls.add(ToolCall.newBuilder().setId(r.id() == null ? "" : r.id()).setToolName(r.name())
                                      .setArgumentsJson(r.arguments() == null ? "{}" : r.arguments()).build());
            }
        }
        final TokenUsage usage = response.tokenUsage();
        final long prompt = usage == null || usage.inputTokenCount() == null ? 0 : usage.inputTokenCount();
        final long completion = usage == null || usage.outputTokenCount() == null ? 0 : usage.outputTokenCount();
        final String model = response.modelName() == null ? fallbackModel : response.modelName();
        return new Completion(message.text() == null ? "" : message.text(), toolCalls,
                              finishReason(response, toolCalls), model, prompt, completion);
    }

    /** A tool of the request as LangChain4j's specification, its parameters parsed from the JSON Schema. */
    static ToolSpecification toSpecification(ToolDefinition tool) {
        final ObjectNode json = mapper.createObjectNode();
        json.put("name", tool.getName());
        json.put("description", tool.getDescription());
        try {
            if (!tool.getParametersJsonSchema().isEmpty()) {
                json.set("parameters", mapper.readTree(tool.getParametersJsonSchema()));
            }
            return ToolSpecificationJsonUtils.fromJson(mapper.writeValueAsString(json));
        } catch (Exception e) {
            throw DomainException.invalidArgument("tools.parameters_json_schema",
                                            tool.getName() + ": not a JSON Schema object: " + e.getMessage());
        }
    }

    private static FinishReason finishReason(ChatResponse response, List<ToolCall> toolCalls) {
        if (!toolCalls.isEmpty()) {
            return FinishReason.FINISH_REASON_TOOL_CALLS;
        }
        if (response.finishReason() == null) {
            return FinishReason.FINISH_REASON_STOP;
        }
        return switch (response.finishReason()) {
            case LENGTH -> FinishReason.FINISH_REASON_LENGTH;
            case TOOL_EXECUTION -> FinishReason.FINISH_REASON_TOOL_CALLS;
            case CONTENT_FILTER -> throw new ProviderFailure(ProviderFailure.Kind.REFUSED,
                                                              "content refused by the provider's filter", null, null);
            default -> FinishReason.FINISH_REASON_STOP;
        };
    }

    private static String contextPrompt(List<ContextPassage> context) {
        final StringBuilder text = new StringBuilder(
                "Use the following context when it is relevant; cite its source in brackets.\n");
        for (ContextPassage passage : context) {
            text.append("\n[").append(passage.getSource()).append("] ").append(passage.getText());
        }
        return text.toString();
    }

    private Conversations() {}
}

package ai.sonia.router.domain;

import java.util.List;

import ai.sonia.common.v1.ToolCall;

/** What one deployment answered. */
public record Completion(String content, List<ToolCall> toolCalls, String finishReason, String model,
                         long promptTokens, long completionTokens) {

    public Completion {
        toolCalls = List.copyOf(toolCalls);
    }
}

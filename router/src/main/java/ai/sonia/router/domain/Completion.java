package ai.sonia.router.domain;

import java.util.List;

import ai.sonia.common.v1.ToolCall;
import ai.sonia.router.v1.FinishReason;

/** What one deployment answered. */
public record Completion(String content, List<ToolCall> toolCalls, FinishReason finishReason, String model,
                         long promptTokens, long completionTokens) {

    public Completion {
        toolCalls = List.copyOf(toolCalls);
    }
}

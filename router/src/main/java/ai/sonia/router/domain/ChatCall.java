package ai.sonia.router.domain;

import java.util.List;

import javax.annotation.Nullable;

import ai.sonia.common.v1.ToolDefinition;
import ai.sonia.router.v1.ChatMessage;
import ai.sonia.router.v1.ContextPassage;

/** A validated chat request, as the router and its providers see it. */
public record ChatCall(String model, List<ChatMessage> messages, List<ContextPassage> context,
                       List<ToolDefinition> tools, @Nullable Double temperature, int maxTokens,
                       String tenant, String principal, boolean allowMidstreamFallover) {

    public ChatCall {
        messages = List.copyOf(messages);
        context = List.copyOf(context);
        tools = List.copyOf(tools);
    }

    /** The same call with its answer capped at {@code tokens}. */
    public ChatCall withMaxTokens(int tokens) {
        return new ChatCall(model, messages, context, tools, temperature, tokens, tenant, principal,
                            allowMidstreamFallover);
    }
}

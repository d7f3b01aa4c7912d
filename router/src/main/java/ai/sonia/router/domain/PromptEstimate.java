package ai.sonia.router.domain;

import java.nio.charset.StandardCharsets;

import ai.sonia.common.v1.ToolCall;
import ai.sonia.common.v1.ToolDefinition;
import ai.sonia.router.v1.ChatMessage;
import ai.sonia.router.v1.ContextPassage;

/**
 * An upper bound of the prompt tokens of a call, for budget reservations: the UTF-8 bytes of every text the
 * provider will read, plus a fixed allowance per message, passage and tool for the chat template. Byte-level
 * BPE tokenizers (GPT, Llama, Claude) never make more tokens than bytes, so a provider that counts honestly
 * stays under it; it overestimates plain text about fourfold, which only matters near the limit.
 */
public final class PromptEstimate {

    /** The chat template's share of each message, passage or tool (role markers, separators). */
    static final int PER_ITEM = 8;
    /** The template's fixed share (reply priming, the context preamble). */
    static final int FIXED = 128;

    /** The most prompt tokens the call can be charged by an honest provider. */
    public static long tokens(ChatCall call) {
        long tokens = FIXED;
        for (ChatMessage m : call.messages()) {
            tokens += PER_ITEM + bytes(m.getContent()) + bytes(m.getToolCallId());
            for (ToolCall c : m.getToolCallsList()) {
                tokens += PER_ITEM + bytes(c.getId()) + bytes(c.getToolName()) + bytes(c.getArgumentsJson());
            }
        }
        for (ContextPassage p : call.context()) {
            tokens += PER_ITEM + bytes(p.getSource()) + bytes(p.getText());
        }
        for (ToolDefinition t : call.tools()) {
            tokens += PER_ITEM + bytes(t.getName()) + bytes(t.getDescription()) + bytes(t.getParametersJsonSchema());
        }
        return tokens;
    }

    private static long bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8).length;
    }

    private PromptEstimate() {}
}

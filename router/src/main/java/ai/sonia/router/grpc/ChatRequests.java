package ai.sonia.router.grpc;

import java.util.List;

import ai.sonia.common.v1.ToolDefinition;
import ai.sonia.router.domain.ChatCall;
import ai.sonia.router.v1.Caller;
import ai.sonia.router.v1.ChatMessage;
import ai.sonia.router.v1.ChatRequest;
import ai.sonia.router.v1.ContextPassage;
import ai.sonia.router.v1.StreamChatRequest;
import ai.sonia.runtime.auth.Principal;

/** Turns chat requests into {@link ChatCall}s; the tenant and principal charged come from the credential. */
final class ChatRequests {

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
        // The credential decides who is charged: the body may only name the caller's own tenant.
        final Principal principal = Principal.current();
        return ChatCall.of(model, messages, context, tools, temperature, maxTokens,
                           principal.tenantFor(caller.getTenant()), principal.audit(), allowMidstream);
    }

    private ChatRequests() {}
}

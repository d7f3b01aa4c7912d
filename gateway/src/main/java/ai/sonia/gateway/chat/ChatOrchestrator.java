package ai.sonia.gateway.chat;

import java.util.List;

import ai.sonia.common.v1.ToolCall;
import ai.sonia.gateway.action.ActionRunner;
import ai.sonia.gateway.action.ToolDefinitions;
import ai.sonia.gateway.client.Downstreams;
import ai.sonia.gateway.v1.ChatRequest;
import ai.sonia.gateway.v1.ChatResponse;
import ai.sonia.gateway.v1.ExecuteActionRequest;
import ai.sonia.runtime.Errors;
import ai.sonia.runtime.auth.Principal;
import io.grpc.StatusRuntimeException;

/**
 * {@code Chat}: recall from memory, route to a model with the memories (and the tool catalog when
 * asked), store the turn, run the tool calls the model proposed through the action path, and answer
 * with the provenance of all of it.
 */
public final class ChatOrchestrator {

    private final Downstreams downstreams;
    private final ToolDefinitions tools;
    private final ActionRunner actions;

    public ChatOrchestrator(Downstreams downstreams, ToolDefinitions tools, ActionRunner actions) {
        this.downstreams = downstreams;
        this.tools = tools;
        this.actions = actions;
    }

    /** The user's message: {@code text}, or {@code message}, its seed name; never both. */
    static String textOf(ChatRequest request) {
        if (request.getMessage().isEmpty()) {
            return request.getText();
        }
        if (!request.getText().isEmpty()) {
            throw Errors.invalidArgument(ChatTurn.DOMAIN, "message",
                                         "set together with text; message is the seeds' name of text: send one of them");
        }
        return request.getMessage();
    }

    public ChatResponse chat(ChatRequest request, Principal caller) {
        final ChatTurn turn = new ChatTurn(downstreams, caller, textOf(request), request.getSessionId(),
                                           request.getMaxMemories());
        final ai.sonia.router.v1.ChatRequest.Builder routed =
                ai.sonia.router.v1.ChatRequest.newBuilder()
                                              .setModel(request.getModel())
                                              .addAllMessages(turn.messages())
                                              .addAllContext(turn.context())
                                              .addAllTools(request.getEnableTools() ? tools.all() : List.of())
                                              .setCaller(routerCaller(caller));
        if (request.hasTemperature()) {
            routed.setTemperature(request.getTemperature());
        }
        final ai.sonia.router.v1.ChatResponse answer;
        try {
            answer = turn.calls.call("router", "Chat", () -> downstreams.router().chat(routed.build()));
        } catch (StatusRuntimeException e) {
            turn.degrade("router");
            throw e; // no answer without the router: its status (UNAVAILABLE, TIMEOUT, ...) is the answer
        }
        final String turnMemory = turn.storeTurn(request.getMetadataMap());
        final ChatResponse.Builder response = turn.response(answer.getContent(), answer.getModel(),
                                                            answer.getDeployment(), answer.getProvider(),
                                                            answer.getUsage())
                                                  .setTurnMemory(turnMemory);
        response.getProvenanceBuilder().setCached(answer.getCached());
        for (ToolCall call : answer.getToolCallsList()) {
            response.addActions(actions.outcome(ExecuteActionRequest.newBuilder()
                                                                   .setToolName(call.getToolName())
                                                                   .setArguments(ActionRunner.arguments(call.getArgumentsJson()))
                                                                   .setSessionId(request.getSessionId())
                                                                   .build()));
        }
        return response.build();
    }

    /** Whom the router bills: the principal's tenant (the router checks it against the credential). */
    static ai.sonia.router.v1.Caller routerCaller(Principal caller) {
        return ai.sonia.router.v1.Caller.newBuilder().setTenant(caller.tenant()).setPrincipal(caller.audit()).build();
    }
}

package ai.sonia.gateway.chat;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import ai.sonia.common.v1.Scope;
import ai.sonia.common.v1.TokenUsage;
import ai.sonia.gateway.client.Downstreams;
import ai.sonia.gateway.v1.ChatResponse;
import ai.sonia.gateway.v1.MemoryCitation;
import ai.sonia.gateway.v1.Provenance;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryKind;
import ai.sonia.memory.v1.SearchHit;
import ai.sonia.memory.v1.SearchMemoriesRequest;
import ai.sonia.memory.v1.StoreMemoryRequest;
import ai.sonia.router.v1.ChatMessage;
import ai.sonia.router.v1.ContextPassage;
import ai.sonia.router.v1.Role;
import ai.sonia.runtime.Errors;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.auth.ServiceCredentialInterceptor;
import io.grpc.StatusRuntimeException;

/**
 * One chat turn in the making: what was recalled, every downstream call with its duration, and which
 * dependencies failed. Memory is optional — without it the turn is answered and marked degraded; the
 * router is not, since it makes the answer. Memory is read and written for the principal, in its tenant
 * and as its user (the turn may be stored after the request's own thread let go: the principal is named).
 */
final class ChatTurn {

    static final String DOMAIN = "gateway.sonia.ai";
    static final int MAX_TEXT_CHARS = 16_000;
    static final int DEFAULT_MEMORIES = 5;
    static final int MAX_MEMORIES = 50;
    private static final String SYSTEM_PROMPT =
            "You are Sonia, a personal assistant running on the user's own machine. Answer briefly and "
            + "truthfully. Use the context passages (the user's memories) when they are relevant, and say so "
            + "when you do not know.";

    final Principal caller;
    final String text;
    final String sessionId;
    final CallLog calls = new CallLog();
    private final Downstreams downstreams;
    private final Set<String> degraded = new LinkedHashSet<>();
    private List<SearchHit> hits = List.of();

    ChatTurn(Downstreams downstreams, Principal caller, String text, String sessionId, int maxMemories) {
        validate(text, maxMemories);
        this.downstreams = downstreams;
        this.caller = caller;
        this.text = text;
        this.sessionId = sessionId;
        recall(maxMemories == 0 ? DEFAULT_MEMORIES : maxMemories);
    }

    private static void validate(String text, int maxMemories) {
        if (text.isBlank()) {
            throw Errors.invalidArgument(DOMAIN, "text", "must not be empty");
        }
        if (text.length() > MAX_TEXT_CHARS) {
            throw Errors.invalidArgument(DOMAIN, "text", text.length() + " characters (expected: <= " + MAX_TEXT_CHARS + ')');
        }
        if (maxMemories < 0 || maxMemories > MAX_MEMORIES) {
            throw Errors.invalidArgument(DOMAIN, "max_memories", maxMemories + " (expected: 0.." + MAX_MEMORIES + ')');
        }
    }

    private void recall(int topK) {
        try {
            hits = calls.call("memory", "SearchMemories", () -> downstreams.memory().withOption(ServiceCredentialInterceptor.ACTING_FOR, caller).searchMemories(
                    SearchMemoriesRequest.newBuilder()
                                         .setQuery(text)
                                         .setScope(Scope.newBuilder().setTenant(caller.tenant()).setUser(caller.subject()))
                                         .setTopK(topK)
                                         .build())).getHitsList();
        } catch (StatusRuntimeException e) {
            degraded.add("memory");
        }
    }

    /** The conversation for the router: the system prompt and the user's message. */
    List<ChatMessage> messages() {
        return List.of(ChatMessage.newBuilder().setRole(Role.ROLE_SYSTEM).setContent(SYSTEM_PROMPT).build(),
                       ChatMessage.newBuilder().setRole(Role.ROLE_USER).setContent(text).build());
    }

    /** The recalled memories as context passages. */
    List<ContextPassage> context() {
        final List<ContextPassage> context = new ArrayList<>();
        for (SearchHit hit : hits) {
            context.add(ContextPassage.newBuilder().setSource(hit.getMemory().getName())
                                      .setText(hit.getMemory().getText()).setScore(hit.getScore()).build());
        }
        return context;
    }

    /** Stores the user's message as a turn of the session; returns its name, or "" when memory failed. */
    String storeTurn(Map<String, String> metadata) {
        try {
            return calls.call("memory", "StoreMemory", () -> downstreams.memory().withOption(ServiceCredentialInterceptor.ACTING_FOR, caller).storeMemory(
                    StoreMemoryRequest.newBuilder().setMemory(
                            Memory.newBuilder()
                                  .setText(text)
                                  .setKind(MemoryKind.MEMORY_KIND_TURN)
                                  .setScope(Scope.newBuilder().setTenant(caller.tenant()).setUser(caller.subject())
                                                 .setSession(sessionId))
                                  .putAllMetadata(metadata)
                                  .setSource("chat")
                                  .setTrust("user")).build())).getMemory().getName();
        } catch (StatusRuntimeException e) {
            degraded.add("memory");
            return "";
        }
    }

    /** Marks a dependency as failed for this turn. */
    void degrade(String service) {
        degraded.add(service);
    }

    /** The reply with its provenance. */
    ChatResponse.Builder response(String reply, String model, String deployment, String provider, TokenUsage usage) {
        final Provenance.Builder provenance = Provenance.newBuilder()
                                                        .setModel(model)
                                                        .setDeployment(deployment)
                                                        .setProvider(provider)
                                                        .setUsage(usage)
                                                        .addAllCalls(calls.calls())
                                                        .addAllDegraded(degraded);
        for (SearchHit hit : hits) {
            final String memoryText = hit.getMemory().getText();
            provenance.addMemories(MemoryCitation.newBuilder()
                                                 .setMemory(hit.getMemory().getName())
                                                 .setScore(hit.getScore())
                                                 .setSnippet(memoryText.length() <= 160 ? memoryText
                                                                                        : memoryText.substring(0, 160) + "..."));
        }
        return ChatResponse.newBuilder().setReply(reply).setSessionId(sessionId).setProvenance(provenance);
    }
}

package ai.sonia.openclaw.tools;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import ai.sonia.common.v1.Scope;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryKind;
import ai.sonia.memory.v1.MemoryServiceGrpc.MemoryServiceBlockingStub;
import ai.sonia.memory.v1.SearchHit;
import ai.sonia.memory.v1.SearchMemoriesRequest;
import ai.sonia.memory.v1.SearchMemoriesResponse;
import ai.sonia.memory.v1.StoreMemoryRequest;
import ai.sonia.memory.v1.StoreMemoryResponse;
import ai.sonia.openclaw.v1.MemorySearchArguments;
import ai.sonia.openclaw.v1.MemoryStoreArguments;
import ai.sonia.runtime.auth.ServiceCredentialInterceptor;
import ai.sonia.runtime.errors.DomainException;

/**
 * memory.store and memory.search: calls to the memory service for the principal of the call (its service
 * credential acts for that user), scoped to the principal's tenant, user and the session.
 */
final class MemoryTools {

    private final MemoryServiceBlockingStub memory;

    MemoryTools(MemoryServiceBlockingStub memory) {
        this.memory = memory;
    }

    ToolOutcome store(MemoryStoreArguments args, ToolCall call) {
        final MemoryKind kind = kind(args.getKind());
        final StoreMemoryResponse stored = actingFor(call).storeMemory(StoreMemoryRequest.newBuilder().setMemory(
                Memory.newBuilder().setText(args.getText()).setKind(kind).setScope(scope(call))
                      .setSource("tool:memory.store").setTrust("tool")).build());
        final Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", stored.getMemory().getName());
        out.put("created", stored.getCreated());
        return ToolOutcome.of(Outputs.struct(out));
    }

    ToolOutcome search(MemorySearchArguments args, ToolCall call) {
        final SearchMemoriesResponse response = actingFor(call).searchMemories(
                SearchMemoriesRequest.newBuilder().setQuery(args.getQuery()).setScope(scope(call))
                                     .setTopK(args.getTopK() > 0 ? args.getTopK() : 5).build());
        final List<Object> hits = new ArrayList<>();
        for (SearchHit hit : response.getHitsList()) {
            hits.add(Map.of("name", hit.getMemory().getName(), "text", hit.getMemory().getText(),
                            "score", hit.getScore()));
        }
        return ToolOutcome.of(Outputs.struct(Map.of("hits", hits)));
    }

    /** Named explicitly, not left to the thread's request context. */
    private MemoryServiceBlockingStub actingFor(ToolCall call) {
        return memory.withOption(ServiceCredentialInterceptor.ACTING_FOR, call.principal());
    }

    private static Scope scope(ToolCall call) {
        return Scope.newBuilder().setTenant(call.principal().tenant()).setUser(call.principal().subject())
                    .setSession(call.sessionId()).build();
    }

    private static MemoryKind kind(String kind) {
        return switch (kind.toLowerCase(Locale.ROOT)) {
            case "", "note" -> MemoryKind.MEMORY_KIND_NOTE;
            case "fact" -> MemoryKind.MEMORY_KIND_FACT;
            case "preference" -> MemoryKind.MEMORY_KIND_PREFERENCE;
            default -> throw DomainException.invalidArgument("arguments.kind",
                                                           "expected fact, note or preference: " + kind);
        };
    }
}

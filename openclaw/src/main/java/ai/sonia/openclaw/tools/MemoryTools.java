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
import ai.sonia.openclaw.catalog.InvalidArgumentsException;
import ai.sonia.openclaw.v1.MemorySearchArgs;
import ai.sonia.openclaw.v1.MemoryStoreArgs;

/** memory.store and memory.search: calls to the memory service, scoped to the tenant and the session. */
final class MemoryTools {

    private final MemoryServiceBlockingStub memory;
    private final String tenant;

    MemoryTools(MemoryServiceBlockingStub memory, String tenant) {
        this.memory = memory;
        this.tenant = tenant;
    }

    ToolOutcome store(MemoryStoreArgs args, ToolCall call) {
        final MemoryKind kind = kind(args.getKind());
        final StoreMemoryResponse stored = memory.storeMemory(StoreMemoryRequest.newBuilder().setMemory(
                Memory.newBuilder().setText(args.getText()).setKind(kind).setScope(scope(call))
                      .setSource("tool:memory.store").setTrust("tool")).build());
        final Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", stored.getMemory().getName());
        out.put("created", stored.getCreated());
        return ToolOutcome.of(Outputs.struct(out));
    }

    ToolOutcome search(MemorySearchArgs args, ToolCall call) {
        final SearchMemoriesResponse response = memory.searchMemories(
                SearchMemoriesRequest.newBuilder().setQuery(args.getQuery()).setScope(scope(call))
                                     .setTopK(args.getTopK() > 0 ? args.getTopK() : 5).build());
        final List<Object> hits = new ArrayList<>();
        for (SearchHit hit : response.getHitsList()) {
            hits.add(Map.of("name", hit.getMemory().getName(), "text", hit.getMemory().getText(),
                            "score", hit.getScore()));
        }
        return ToolOutcome.of(Outputs.struct(Map.of("hits", hits)));
    }

    private Scope scope(ToolCall call) {
        return Scope.newBuilder().setTenant(tenant).setSession(call.sessionId()).build();
    }

    private static MemoryKind kind(String kind) {
        return switch (kind.toLowerCase(Locale.ROOT)) {
            case "", "note" -> MemoryKind.MEMORY_KIND_NOTE;
            case "fact" -> MemoryKind.MEMORY_KIND_FACT;
            case "preference" -> MemoryKind.MEMORY_KIND_PREFERENCE;
            default -> throw new InvalidArgumentsException("arguments.kind",
                                                           "expected fact, note or preference: " + kind);
        };
    }
}

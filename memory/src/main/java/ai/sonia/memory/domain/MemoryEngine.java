package ai.sonia.memory.domain;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

import com.google.protobuf.util.Timestamps;

import ai.sonia.common.v1.Scope;
import ai.sonia.memory.MemoryConfig;
import ai.sonia.memory.domain.MemoryStore.Forgotten;
import ai.sonia.memory.domain.MemoryStore.NewMemory;
import ai.sonia.memory.domain.MemoryStore.Row;
import ai.sonia.memory.domain.MemoryStore.Stored;
import ai.sonia.memory.v1.ForgetMemoryRequest;
import ai.sonia.memory.v1.ForgetMemoryResponse;
import ai.sonia.memory.v1.InvalidateMemoryRequest;
import ai.sonia.memory.v1.ListAuditRecordsRequest;
import ai.sonia.memory.v1.ListAuditRecordsResponse;
import ai.sonia.memory.v1.ListMemoriesRequest;
import ai.sonia.memory.v1.ListMemoriesResponse;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryKind;
import ai.sonia.memory.v1.MemoryStats;
import ai.sonia.memory.v1.StoreMemoryRequest;
import ai.sonia.memory.v1.StoreMemoryResponse;
import ai.sonia.runtime.errors.DomainException;
import ai.sonia.runtime.paging.PageTokens;

/**
 * The memory ledger's requests: idempotent stores with supersede, invalidate, TTL and forget, reads, lists,
 * statistics and the audit log. Every write goes through the one writer and leaves an audit record in the
 * same transaction; search is {@link SearchPipeline}'s, background work {@link Housekeeping}'s.
 */
public final class MemoryEngine {

    private static final int DEFAULT_PAGE = 50;
    private static final int MAX_PAGE = 500;

    private final MemoryConfig config;
    private final MemoryStore.Quota quota;
    private final MemoryStore store;
    private final AuditLog auditLog;
    private final Embedder embedder;
    private final MemoryIndex index;
    private final AccessTracker accesses;
    private final TrainingGate training;
    private final Clock clock;

    public MemoryEngine(MemoryConfig config, MemoryStore store, AuditLog auditLog, Embedder embedder,
                        MemoryIndex index, AccessTracker accesses, TrainingGate training, Clock clock) {
        this.training = training;
        this.config = config;
        this.quota = new MemoryStore.Quota(config.maxMemoriesPerUser(), config.maxTextCharsPerUser());
        this.store = store;
        this.auditLog = auditLog;
        this.embedder = embedder;
        this.index = index;
        this.accesses = accesses;
        this.clock = clock;
    }

    /** Why searches cannot be answered yet (for {@code /readyz}), or null when they can. */
    public String indexProblem() {
        return index.problem();
    }

    long nowMs() {
        return clock.millis();
    }

    /** Stores a memory, idempotently within its scope by content hash. */
    public StoreMemoryResponse store(StoreMemoryRequest request, Access access) {
        RequestChecks.noUnknownFields("", request);
        final Memory checked = checkedMemory(request);
        RequestChecks.name("supersedes", request.getSupersedes(), false);
        final Memory memory = checked.toBuilder()
                                     .setScope(access.storeScope(checked.getScope(), request.getTenantWide()))
                                     .build();
        training.checkWritable(memory.getScope().getTenant());
        RequestChecks.label("request_id", request.getRequestId());
        final long nowMs = nowMs();
        final String supersedes = request.getSupersedes().isEmpty()
                                  ? keyed(memory, nowMs).map(Memory::getName).orElse("")
                                  : request.getSupersedes();
        if (!request.getRequestId().isEmpty()) {
            // A retry of a store already made: its outcome, nothing written.
            final Optional<Stored> earlier = store.byRequest(
                    access.actor().principal(), request.getRequestId(),
                    nowMs - Housekeeping.REQUEST_IDS_KEPT.toMillis(), nowMs);
            if (earlier.isPresent()) {
                return StoreMemoryResponse.newBuilder().setMemory(earlier.get().row().memory())
                                          .setCreated(earlier.get().created()).build();
            }
        }
        if (!supersedes.isEmpty()) {
            // Who owns a memory never changes, so checking before the write is as good as inside it.
            access.checkWritable(row(supersedes, nowMs).memory());
        }
        final Long expireMs = expireMs(request, nowMs);
        final String hash = ContentHash.of(memory.getText());
        if (supersedes.isEmpty()) {
            final Optional<Row> existing = store.activeByHash(memory.getScope(), hash, nowMs);
            if (existing.isPresent()) {
                return StoreMemoryResponse.newBuilder().setMemory(existing.get().memory()).setCreated(false).build();
            }
        }
        final float[] vector = embedder.embed(memory.getText());
        final NewMemory fresh = new NewMemory(memory, hash, vector, embedder.model(), expireMs,
                                              supersedes, request.getRequestId(), quota);
        final Stored stored = store.store(fresh, access.actor(), nowMs);
        if (stored.created()) {
            index.add(memory.getScope().getTenant(), stored.row().id(), memory.getText(), vector);
        }
        return StoreMemoryResponse.newBuilder().setMemory(stored.row().memory()).setCreated(stored.created())
                                  .build();
    }

    /** The metadata entry that StoreMemoryRequest.key and RecallMemory use. */
    static final String KEY = "key";

    /**
     * The memory that a store under a key replaces: the newest active one of exactly the new memory's scope
     * with the same key and another text; empty without a key.
     */
    private Optional<Memory> keyed(Memory memory, long nowMs) {
        final String key = memory.getMetadataOrDefault(KEY, "");
        if (key.isEmpty()) {
            return Optional.empty();
        }
        final Scope scope = memory.getScope();
        final String hash = ContentHash.of(memory.getText());
        // The filter also returns the broader scopes' memories (tenant-wide ones, for a user): only the same
        // scope's is replaced.
        return store.list(keyFilter(scope, key, nowMs), 0, KEYED_CANDIDATES).stream().map(Row::memory)
                    .filter(m -> m.getScope().equals(scope)).findFirst()
                    .filter(m -> !m.getContentHash().equals(hash));
    }

    private static final int KEYED_CANDIDATES = 20;

    /** The active memories a scope sees (its own and the broader ones) stored under {@code key}. */
    private static MemoryFilter keyFilter(Scope scope, String key, long nowMs) {
        return new MemoryFilter(scope.getTenant(), scope.getUser(), scope.getSession(), List.of(),
                                new TreeMap<>(Map.of(KEY, key)), false, nowMs);
    }

    /**
     * The newest active memory the caller may see stored under {@code key}, else the memory whose id is
     * {@code key}; counts as an access.
     */
    public Memory recall(String key, Access access) {
        if (key.isBlank()) {
            throw DomainException.invalidArgument("key", "required and not blank");
        }
        RequestChecks.label("key", key);
        final long nowMs = nowMs();
        final Scope scope = access.readScope(Scope.getDefaultInstance(), false);
        final Optional<Row> found = store.list(keyFilter(scope, key, nowMs), 0, 1).stream().findFirst();
        if (found.isPresent()) {
            accesses.record(found.get().id(), nowMs);
            return found.get().memory();
        }
        if (MEMORY_ID.matcher(key).matches()) {
            return get("memories/" + key, access);
        }
        throw DomainException.notFound("memory", key);
    }

    private static final Pattern MEMORY_ID = Pattern.compile("[0-9a-f]{32}");

    private Memory checkedMemory(StoreMemoryRequest request) {
        final Memory memory = withSeedFields(request);
        RequestChecks.noUnknownFields("memory", memory);
        RequestChecks.text("memory.text", memory.getText(), config.maxTextChars());
        RequestChecks.scope("memory.scope", memory.getScope());
        RequestChecks.kind("memory.kind", memory.getKind());
        RequestChecks.metadata("memory.metadata", memory.getMetadataMap());
        RequestChecks.label("memory.source", memory.getSource());
        RequestChecks.label("memory.trust", memory.getTrust());
        return Memory.newBuilder()
                     .setText(memory.getText())
                     .setScope(memory.getScope())
                     .setKind(memory.getKind() == MemoryKind.MEMORY_KIND_UNSPECIFIED ? MemoryKind.MEMORY_KIND_NOTE
                                                                                     : memory.getKind())
                     .putAllMetadata(memory.getMetadataMap())
                     .setSource(memory.getSource())
                     .setTrust(memory.getTrust())
                     .build();
    }

    /** The memory of the request, with the seed's {@code value} as its text and {@code key} in its metadata. */
    private static Memory withSeedFields(StoreMemoryRequest request) {
        if (!request.hasMemory() && request.getValue().isEmpty()) {
            throw DomainException.invalidArgument("memory", "required (or value, with key)");
        }
        final Memory.Builder memory = request.getMemory().toBuilder();
        if (!request.getValue().isEmpty()) {
            if (!memory.getText().isEmpty() && !memory.getText().equals(request.getValue())) {
                throw DomainException.invalidArgument("value", "differs from memory.text (set one of them)");
            }
            memory.setText(request.getValue());
        }
        if (!request.getKey().isEmpty()) {
            RequestChecks.label("key", request.getKey());
            final String named = memory.getMetadataOrDefault(KEY, request.getKey());
            if (!named.equals(request.getKey())) {
                throw DomainException.invalidArgument("key", "differs from memory.metadata[\"key\"]");
            }
            memory.putMetadata(KEY, request.getKey());
        }
        return memory.build();
    }

    /** The longest time to live: 100 years (beyond it, milliseconds from now would overflow sooner or later). */
    private static final long MAX_TTL_SECONDS = 100L * 366 * 24 * 3600;

    private static Long expireMs(StoreMemoryRequest request, long nowMs) {
        if (request.getTtlSeconds() < 0 || request.getTtlSeconds() > MAX_TTL_SECONDS) {
            throw DomainException.invalidArgument("ttl_seconds",
                                          request.getTtlSeconds() + " (expected: 0.." + MAX_TTL_SECONDS + ')');
        }
        if (request.getTtlSeconds() > 0) {
            return nowMs + Math.multiplyExact(request.getTtlSeconds(), 1000L);
        }
        if (request.getMemory().hasExpireTime()) {
            if (!Timestamps.isValid(request.getMemory().getExpireTime())) {
                throw DomainException.invalidArgument("memory.expire_time", "not a valid timestamp");
            }
            final long expire = Timestamps.toMillis(request.getMemory().getExpireTime());
            if (expire <= nowMs) {
                throw DomainException.invalidArgument("memory.expire_time", "must be in the future");
            }
            return expire;
        }
        return null;
    }

    /** The memory with this name, if the caller may see it; counts as an access. */
    public Memory get(String name, Access access) {
        RequestChecks.name("name", name, true);
        final long nowMs = nowMs();
        final Row row = row(name, nowMs);
        access.checkReadable(row.memory());
        accesses.record(row.id(), nowMs);
        return row.memory();
    }

    private Row row(String name, long nowMs) {
        return store.byName(name, nowMs).orElseThrow(() -> DomainException.notFound("memory", name));
    }

    /** A page of a scope's memories, newest first. */
    public ListMemoriesResponse list(ListMemoriesRequest request, Access access) {
        RequestChecks.noUnknownFields("", request);
        RequestChecks.scope("scope", request.getScope());
        final int size = PageTokens.pageSize(request.getPageSize(), DEFAULT_PAGE, MAX_PAGE);
        final Scope scope = access.readScope(request.getScope(), request.getAllUsers());
        final String query = "ListMemories tenant=" + scope.getTenant() + " user=" + scope.getUser() + " session="
                             + scope.getSession() + " include_inactive=" + request.getIncludeInactive();
        final long before = afterId(request.getPageToken(), query);
        final long nowMs = nowMs();
        final MemoryFilter filter = new MemoryFilter(
                scope.getTenant(), scope.getUser(), scope.getSession(),
                List.of(), new TreeMap<>(), request.getIncludeInactive(), nowMs);
        final List<Row> rows = store.list(filter, before, size + 1);
        final ListMemoriesResponse.Builder response = ListMemoriesResponse.newBuilder();
        rows.stream().limit(size).forEach(row -> response.addMemories(row.memory()));
        if (rows.size() > size) {
            response.setNextPageToken(PageTokens.next(query, List.of(String.valueOf(rows.get(size - 1).id()))));
        }
        return response.build();
    }

    /** Closes a memory's validity without a successor. */
    public Memory invalidate(InvalidateMemoryRequest request, Access access) {
        RequestChecks.noUnknownFields("", request);
        final long nowMs = checkClosable(request.getName(), request.getReason(), access);
        return store.invalidate(request.getName(), request.getReason(), access.actor(), nowMs).memory();
    }

    /** Deletes a memory for good; the audit log keeps that it happened. */
    public ForgetMemoryResponse forget(ForgetMemoryRequest request, Access access) {
        RequestChecks.noUnknownFields("", request);
        final long nowMs = checkClosable(request.getName(), request.getReason(), access);
        final Forgotten forgotten = store.forget(request.getName(), request.getReason(), access.actor(), nowMs);
        index.remove(forgotten.tenant(), forgotten.id());
        return ForgetMemoryResponse.newBuilder().setName(request.getName())
                                   .setAuditRecord(forgotten.auditRecord()).build();
    }

    /**
     * The checks of an invalidate or forget of memory {@code name} for {@code reason}: the name and reason
     * valid, the memory there and writable by {@code access} outside training; the time they were made at.
     */
    private long checkClosable(String name, String reason, Access access) {
        RequestChecks.name("name", name, true);
        RequestChecks.label("reason", reason);
        final long nowMs = nowMs();
        final Memory current = row(name, nowMs).memory();
        access.checkWritable(current);
        training.checkWritable(current.getScope().getTenant());
        return nowMs;
    }

    /** Counts and sizes of what the caller sees. */
    public MemoryStats stats(String tenant, Access access) {
        if (!tenant.isEmpty()) {
            RequestChecks.scopeId("tenant", tenant);
        }
        final LedgerView view = access.view(tenant);
        final long nowMs = nowMs();
        final MemoryStats.Builder stats = store.stats(view, nowMs).toBuilder();
        if (!access.seesWholeFile()) {
            stats.clearDatabaseBytes();
        }
        return stats.setEmbeddingModel(embedder.model()).setApproximateIndexReady(index.graphReady()).build();
    }

    /** A page of the audit log, newest first. */
    public ListAuditRecordsResponse audit(ListAuditRecordsRequest request, Access access) {
        RequestChecks.noUnknownFields("", request);
        RequestChecks.name("memory", request.getMemory(), false);
        final int size = PageTokens.pageSize(request.getPageSize(), DEFAULT_PAGE, MAX_PAGE);
        final LedgerView view = access.view("");
        final String query = "ListAuditRecords tenant=" + view.tenant() + " principal=" + view.principal()
                             + " memory=" + request.getMemory();
        final long before = afterId(request.getPageToken(), query);
        final var records = auditLog.list(view, request.getMemory(), before, size + 1);
        final ListAuditRecordsResponse.Builder response = ListAuditRecordsResponse.newBuilder();
        records.stream().limit(size).forEach(response::addAuditRecords);
        if (records.size() > size) {
            final String last = records.get(size - 1).getName();
            response.setNextPageToken(PageTokens.next(query, List.of(last.substring(last.indexOf('/') + 1))));
        }
        return response.build();
    }

    /** The row id a page continues below (keyset, newest first), 0 for the first page. */
    private static long afterId(String token, String query) {
        final Optional<List<String>> after = PageTokens.after(token, query);
        if (after.isEmpty()) {
            return 0;
        }
        try {
            final long id = Long.parseLong(after.get().get(0));
            if (id > 0) {
                return id;
            }
        } catch (NumberFormatException e) {
            // Falls through: a token of our format with a key we never make.
        }
        throw DomainException.invalidArgument("page_token", "not a page token of this list");
    }
}

package ai.sonia.memory.domain;

import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.common.v1.Scope;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryStats;
import ai.sonia.runtime.errors.DomainException;

/**
 * The memory ledger's storage: memories with their metadata and vectors, and every write's
 * audit record in the write's own transaction. Reads see what is committed; a write is durable when it
 * returns. A memory past its expiry reads as EXPIRED from that instant, before the sweeper records it.
 */
public interface MemoryStore extends AutoCloseable {

    /** A memory with its row id (the key shared with the vector index) and when it was last stored or used. */
    record Row(long id, Memory memory, long referenceMs) {}

    /**
     * A memory to store: validated request fields plus what the engine computed; a non-empty
     * {@code requestId} is remembered for {@link #byRequest}.
     */
    record NewMemory(Memory memory, String contentHash, float[] vector, String model, Long expireMs,
                     String supersedes, String requestId, Quota quota) {

        /** Without a quota. */
        public NewMemory(Memory memory, String contentHash, float[] vector, String model, Long expireMs,
                         String supersedes, String requestId) {
            this(memory, contentHash, vector, model, expireMs, supersedes, requestId, Quota.NONE);
        }

        /** Without a request id or a quota. */
        public NewMemory(Memory memory, String contentHash, float[] vector, String model, Long expireMs,
                         String supersedes) {
            this(memory, contentHash, vector, model, expireMs, supersedes, "");
        }
    }

    /**
     * What one owner (a tenant's user, or the tenant for its tenant-wide memories) may hold in the ledger: memories
     * in any state but forgotten, and the characters of their text. A store that would take its owner past either
     * is refused RATE_LIMITED in its own transaction, so replicas storing for one owner at once cannot overshoot;
     * forgetting frees room. One user's stores cannot fill the disk every other user's memories live on.
     */
    record Quota(long memories, long textChars) {

        /** No limit (the store's own tests and tools). */
        public static final Quota NONE = new Quota(Long.MAX_VALUE, Long.MAX_VALUE);

        /** The name of the count limit in a refusal's {@code limit}. */
        public static final String MEMORIES = "memories_per_user";

        /** The name of the text limit in a refusal's {@code limit}. */
        public static final String TEXT_CHARS = "text_chars_per_user";

        public Quota {
            if (memories < 1 || textChars < 1) {
                throw new IllegalArgumentException("a quota of " + memories + " memories and " + textChars
                                                   + " characters (expected: both > 0)");
            }
        }

        /**
         * Refuses a store that left its owner holding {@code memories} memories of {@code textChars} characters,
         * counting itself, when that is past the quota.
         *
         * @throws DomainException RATE_LIMITED, naming the limit, the quota and what the owner holds
         */
        public void check(long heldMemories, long heldTextChars) {
            if (heldMemories > memories) {
                throw refused(MEMORIES, "you hold " + (heldMemories - 1) + " memories, the most one user may keep",
                              memories, heldMemories - 1);
            }
            if (heldTextChars > textChars) {
                throw refused(TEXT_CHARS, "this memory would take your memories' text to " + heldTextChars
                                          + " characters, past the " + textChars + " one user may keep",
                              textChars, heldTextChars);
            }
        }

        private static DomainException refused(String limit, String what, long max, long used) {
            return DomainException.of(ErrorCode.ERROR_CODE_RATE_LIMITED,
                                      limit + " limit reached: " + what + "; forget memories you no longer need"
                                      + " (ForgetMemory) or ask the operator to raise it",
                                      Map.of("limit", limit, "max", String.valueOf(max), "used", String.valueOf(used)));
        }
    }

    /** The outcome of a store. */
    record Stored(Row row, boolean created) {}

    /** The outcome of a forget: what to drop from the in-memory vector index. */
    record Forgotten(long id, String tenant, String auditRecord) {}

    /** A memory that the sweeper expired. */
    record Expired(long id, String tenant) {}

    /** Receives every stored memory's text and vector. */
    @FunctionalInterface
    interface DocumentSink {
        void accept(long id, String tenant, String text, float[] vector);
    }

    /** Receives every stored vector. */
    @FunctionalInterface
    interface VectorSink {
        void accept(long id, String tenant, float[] vector);
    }

    /**
     * A change to the searchable set committed by any replica: a memory ADDed (with its text and vector, as
     * they are now), REMOVEd, or the whole ledger RELOADed (a restore). {@code seq} orders changes.
     */
    record Change(long seq, Kind kind, long id, String tenant, String text, float[] vector) {

        /** What changed. */
        public enum Kind { ADD, REMOVE, RELOAD }
    }

    /**
     * The changes read by {@link #changesSince} that the reader did not know, in {@code seq} order; where to
     * read next; and every {@code seq} read (to pass as {@code known} next time).
     */
    record Changes(List<Change> changes, long cursor, Set<Long> seen) {}

    /**
     * Where the change feed stands now, to pass to {@link #changesSince} before the index is loaded from the
     * ledger. A store that only this process writes has no feed: 0.
     */
    default long changeCursor() {
        return 0;
    }

    /**
     * The changes committed since {@code cursor}, by this replica and the others, for the in-process index
     * of each: every one committed since is there, but for those whose {@code seq} is in {@code known} (read
     * before: a change can be read again while an older transaction runs). A store that only this process
     * writes has none (its engine updates the index itself).
     */
    default Changes changesSince(long cursor, Set<Long> known) {
        return new Changes(List.of(), cursor, Set.of());
    }

    /**
     * Whether this ledger keeps the outbox of a shared search index: each store and forget records, in its own
     * transaction, the index write it owes, until {@link #drainIndexOutbox} saw it acknowledged. Opened so for
     * the SolrCloud index only; the in-process index is told by the engine and rebuilt at start.
     */
    default boolean keepsIndexOutbox() {
        return false;
    }

    /**
     * Hands the outbox's oldest writes (up to {@code limit}, in order, each as its memory is now: an ADD with text
     * and vector, or a REMOVE) to {@code apply}, and drops them once it returned; when it throws, nothing is
     * dropped and they come again next time (applying must be idempotent). One caller at a time among the
     * replicas of a shared ledger, so an older write is never applied after a newer one of the same memory.
     *
     * @return how many writes were applied, or -1 when another replica is applying them now
     */
    default int drainIndexOutbox(int limit, Consumer<List<Change>> apply) {
        return 0;
    }

    /** The memory with this name, in any tenant, or empty. */
    Optional<Row> byName(String name, long nowMs);

    /** The active memory of this scope with this content hash, or empty. */
    Optional<Row> activeByHash(Scope scope, String hash, long nowMs);

    /** A page of the filter's memories, newest first, older than the row {@code beforeId} (0 for the newest). */
    List<Row> list(MemoryFilter filter, long beforeId, int limit);

    /** Those of {@code ids} that pass the filter, keyed by id. */
    Map<Long, Row> eligible(MemoryFilter filter, Collection<Long> ids);

    /**
     * Those of {@code ids} that pass the filter, each with its {@link Row#referenceMs()}: {@link #eligible}
     * without reading the memories (what ranking needs, at a fraction of the cost).
     */
    Map<Long, Long> eligibleReferences(MemoryFilter filter, Collection<Long> ids);

    /**
     * Stores a memory, or returns the identical active one of its scope; supersedes {@code supersedes} when
     * set (NOT_FOUND when it is not in the memory's tenant, a conflict unless it is active).
     */
    Stored store(NewMemory memory, Actor actor, long nowMs);

    /**
     * The outcome of the store that {@code principal} made with {@code requestId} at or after
     * {@code sinceMs}, with the memory as it is now; empty when there was none or its memory is forgotten.
     */
    Optional<Stored> byRequest(String principal, String requestId, long sinceMs, long nowMs);

    /**
     * Forgets the request ids of stores made before {@code beforeMs}, and a change feed's entries as old;
     * returns how many request ids.
     */
    int forgetRequestsBefore(long beforeMs);

    /** {@link #store} of each, all in one transaction. */
    List<Stored> storeAll(List<NewMemory> memories, Actor actor, long nowMs);

    /** Closes a memory's validity without a successor; idempotent. NOT_FOUND when there is none. */
    Row invalidate(String name, String reason, Actor actor, long nowMs);

    /** Deletes a memory's text, metadata, vector and index entry; the audit keeps the fact. NOT_FOUND if none. */
    Forgotten forget(String name, String reason, Actor actor, long nowMs);

    /** Marks up to {@code limit} memories past their TTL as expired, with an audit record each. */
    List<Expired> expireDue(Actor actor, long nowMs, int limit);

    /** Records accesses (id to last time and count), batched; they change no content and are not audited. */
    void touch(Map<Long, long[]> accesses);

    /** Streams every stored vector, in id order. */
    void vectors(VectorSink sink);

    /** Streams every memory's text and vector, in id order. */
    void documents(DocumentSink sink);

    /** Counts by state, vectors and audit records of what {@code view} sees, and the size of the whole ledger. */
    MemoryStats stats(LedgerView view, long nowMs);

    /** Up to {@code limit} names of embedding models, other than {@code model}, whose vectors the ledger holds. */
    List<String> otherVectorModels(String model, int limit);

    /** How many memories the ledger holds, in all states. */
    long count();

    /** Copies the whole ledger, consistently, into the new file {@code target}. */
    void backup(Path target);

    /** Why {@code source} cannot be restored (integrity, schema), or null when it can. */
    String restoreProblem(Path source);

    /** Replaces the whole ledger with the copy in {@code source}, brought up to this build's schema. */
    void restore(Path source);

    @Override
    void close();
}

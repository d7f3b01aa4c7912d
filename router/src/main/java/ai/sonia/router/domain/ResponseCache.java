package ai.sonia.router.domain;

import java.time.Duration;
import java.util.List;
import java.util.function.LongSupplier;

import javax.annotation.Nullable;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import ai.sonia.common.v1.ToolDefinition;
import ai.sonia.router.v1.ChatMessage;
import ai.sonia.router.v1.ContextPassage;

/**
 * Answers of deterministic chats, kept for a while: a call at temperature 0 whose tenant, model chain, whole
 * conversation, context passages, tools and every generation parameter equal those of an earlier answered one
 * gets that answer again without a provider call. Nothing is shared across tenants (the tenant is part of the
 * key); a call without a temperature, or above 0, is never served from here. Bounded in entries (least
 * recently and frequently used go first) and in age (from when the answer was stored).
 */
public final class ResponseCache {

    /** Everything a deterministic answer depends on. */
    record Key(String tenant, List<String> chain, List<ChatMessage> messages, List<ContextPassage> context,
               List<ToolDefinition> tools, double temperature, int maxTokens) {}

    /** A stored answer and the deployment that gave it. */
    public record Answer(Completion completion, Deployment deployment) {}

    @Nullable
    private final Cache<Key, Answer> answers;

    /**
     * A cache of at most {@code maxEntries} answers, each kept for {@code ttl}, on the time of {@code nanoTime};
     * no cache at all when either is 0.
     */
    public ResponseCache(long maxEntries, Duration ttl, LongSupplier nanoTime) {
        if (maxEntries < 0 || ttl.isNegative()) {
            throw new IllegalArgumentException("maxEntries: " + maxEntries + ", ttl: " + ttl + " (expected: >= 0)");
        }
        answers = maxEntries == 0 || ttl.isZero() ? null
                                                  : Caffeine.newBuilder().maximumSize(maxEntries)
                                                            .expireAfterWrite(ttl).ticker(nanoTime::getAsLong)
                                                            // evicted on the caller's thread: no pool, and tests
                                                            // see the size bound at once
                                                            .executor(Runnable::run).build();
    }

    /** The key of {@code call} routed over {@code chain} if its answer may be cached, else null. */
    @Nullable
    Key keyOf(ChatCall call, List<Deployment> chain) {
        if (answers == null || call.temperature() == null || call.temperature() != 0) {
            return null;
        }
        return new Key(call.tenant(), chain.stream().map(Deployment::name).toList(), call.messages(), call.context(),
                       call.tools(), call.temperature(), call.maxTokens());
    }

    @Nullable
    Answer get(Key key) {
        return answers == null ? null : answers.getIfPresent(key);
    }

    void put(Key key, Answer answer) {
        if (answers != null) {
            answers.put(key, answer);
        }
    }

    /** How many answers are kept now (after pending evictions). */
    public long size() {
        if (answers == null) {
            return 0;
        }
        answers.cleanUp();
        return answers.estimatedSize();
    }
}

package ai.sonia.router.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import ai.sonia.router.v1.ChatMessage;
import ai.sonia.router.v1.FinishReason;
import ai.sonia.router.v1.Role;

class ResponseCacheTest {

    private static final List<Deployment> CHAIN =
            List.of(new Deployment("local", "ollama", "llama3.2", "http://127.0.0.1:1", null, Duration.ofSeconds(1), 0, 0));
    private static final ResponseCache.Answer ANSWER = new ResponseCache.Answer(
            new Completion("hi", List.of(), FinishReason.FINISH_REASON_STOP, "llama3.2", 1, 1), CHAIN.get(0));

    private final AtomicLong nanos = new AtomicLong();

    private static ChatCall call(String text) {
        return ChatCall.of("", List.of(ChatMessage.newBuilder().setRole(Role.ROLE_USER).setContent(text).build()),
                           List.of(), List.of(), 0.0, 0, "acme", "ann", false);
    }

    @Test
    void anAnswerIsGoneAfterItsTimeToLive() {
        final ResponseCache cache = new ResponseCache(10, Duration.ofMinutes(5), nanos::get);
        final ResponseCache.Key key = cache.keyOf(call("q"), CHAIN);
        cache.put(key, ANSWER);
        nanos.addAndGet(Duration.ofMinutes(5).minusNanos(1).toNanos());
        assertThat(cache.get(key)).isEqualTo(ANSWER);
        nanos.addAndGet(1);
        assertThat(cache.get(key)).isNull();
    }

    @Test
    void itKeepsAtMostItsSizeBound() {
        final ResponseCache cache = new ResponseCache(2, Duration.ofMinutes(5), nanos::get);
        for (String q : List.of("a", "b", "c", "d")) {
            cache.put(cache.keyOf(call(q), CHAIN), ANSWER);
        }
        assertThat(cache.size()).isEqualTo(2);
    }

    @Test
    void aZeroBoundOrTimeToLiveTurnsItOff() {
        assertThat(new ResponseCache(0, Duration.ofMinutes(5), nanos::get).keyOf(call("q"), CHAIN)).isNull();
        assertThat(new ResponseCache(10, Duration.ZERO, nanos::get).keyOf(call("q"), CHAIN)).isNull();
    }
}

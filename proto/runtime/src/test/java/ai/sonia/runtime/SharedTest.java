package ai.sonia.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

class SharedTest {

    @Test
    void concurrentFirstCallsMakeOneInstance() throws Exception {
        final AtomicInteger made = new AtomicInteger();
        final CountDownLatch start = new CountDownLatch(1);
        final ExecutorService pool = Executors.newFixedThreadPool(8, Threads.factory("shared-test"));
        try {
            final List<Future<Object>> results = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    return Shared.get("test/once", () -> {
                        made.incrementAndGet();
                        return new Object();
                    });
                }));
            }
            start.countDown();
            final Object first = results.get(0).get(10, TimeUnit.SECONDS);
            for (Future<Object> result : results) {
                assertThat(result.get(10, TimeUnit.SECONDS)).isSameAs(first);
            }
            assertThat(made).hasValue(1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aFailingMakerIsRetriedNotCached() {
        final AtomicInteger attempts = new AtomicInteger();
        assertThatThrownBy(() -> Shared.get("test/flaky", () -> {
            attempts.incrementAndGet();
            throw new IllegalStateException("model file missing");
        })).hasMessage("model file missing");
        assertThat(Shared.get("test/flaky", () -> "loaded " + attempts.incrementAndGet())).isEqualTo("loaded 2");
        assertThat(Shared.get("test/flaky", () -> "never")).isEqualTo("loaded 2");
    }

    @Test
    void aMakerMayGetAnotherKey() {
        final String outer = Shared.get("test/outer", () -> "outer of " + Shared.get("test/inner", () -> "inner"));
        assertThat(outer).isEqualTo("outer of inner");
    }

    @Test
    void threadsAreDaemonsNamedByPrefix() {
        final var factory = Threads.factory("worker");
        final Thread first = factory.newThread(() -> {});
        final Thread second = factory.newThread(() -> {});
        assertThat(first.getName()).isEqualTo("worker-1");
        assertThat(second.getName()).isEqualTo("worker-2");
        assertThat(first.isDaemon()).isTrue();
    }
}

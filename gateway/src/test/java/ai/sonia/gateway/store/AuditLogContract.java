package ai.sonia.gateway.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import ai.sonia.gateway.domain.AuditLog;
import ai.sonia.gateway.domain.AuditLog.AuditRow;

/** What every {@link AuditLog} does: each implementation's test extends this with a fresh, empty log per test. */
public abstract class AuditLogContract {

    /** A new, empty log. */
    protected abstract AuditLog newLog();

    private AuditLog log;

    @BeforeEach
    void open() {
        log = newLog();
    }

    private static AuditRow event(String tenant, String detail) {
        return new AuditRow(0, tenant, 1000, 1, true, "actor", "user", "name", "127.0.0.1", detail);
    }

    @Test
    void eventsComeBackNewestFirstPerTenantAsAppended() {
        final long first = log.append(event("t1", "one"));
        final long second = log.append(event("t1", "two"));
        log.append(event("t2", "other"));
        assertThat(second).isGreaterThan(first);
        assertThat(log.page("t1", Long.MAX_VALUE, 10)).extracting(AuditRow::detail).containsExactly("two", "one");
        assertThat(log.page("t1", Long.MAX_VALUE, 10).get(1))
                .isEqualTo(new AuditRow(first, "t1", 1000, 1, true, "actor", "user", "name", "127.0.0.1", "one"));
        assertThat(log.page("t2", Long.MAX_VALUE, 10)).extracting(AuditRow::detail).containsExactly("other");
        assertThat(log.page("t3", Long.MAX_VALUE, 10)).isEmpty();
    }

    @Test
    void pagesBelowACursorNeitherSkipNorRepeatWhenEventsAreAppended() {
        for (int i = 0; i < 5; i++) {
            log.append(event("t1", "e" + i));
        }
        final List<AuditRow> first = log.page("t1", Long.MAX_VALUE, 2);
        assertThat(first).extracting(AuditRow::detail).containsExactly("e4", "e3");
        log.append(event("t1", "newer")); // above the cursor: the next walk sees it
        final List<AuditRow> second = log.page("t1", first.get(1).seq(), 2);
        assertThat(second).extracting(AuditRow::detail).containsExactly("e2", "e1");
        assertThat(log.page("t1", second.get(1).seq(), 2)).extracting(AuditRow::detail).containsExactly("e0");
    }

    @Test
    void concurrentAppendsGetDistinctSequenceNumbers() throws Exception {
        final ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            final List<Callable<Long>> appends = new ArrayList<>();
            IntStream.range(0, 64).forEach(i -> appends.add(() -> log.append(event("t1", "e" + i))));
            final HashSet<Long> seqs = new HashSet<>();
            for (Future<Long> append : pool.invokeAll(appends)) {
                seqs.add(append.get());
            }
            assertThat(seqs).hasSize(64);
            assertThat(log.page("t1", Long.MAX_VALUE, 100)).extracting(AuditRow::seq).containsExactlyInAnyOrderElementsOf(seqs);
        } finally {
            pool.shutdownNow();
        }
    }
}

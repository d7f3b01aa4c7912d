package ai.sonia.openclaw.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import ai.sonia.openclaw.domain.AuditLog;
import ai.sonia.openclaw.domain.AuditLog.Entry;

/**
 * What every {@link AuditLog} must do: keep each record as appended under an id of its own, cut long
 * details, list newest first in pages that neither skip nor repeat while calls go on, lose nothing to
 * concurrent appends.
 */
public abstract class AuditLogContract {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private AuditLog log;

    /** A new, empty audit log. */
    protected abstract AuditLog newLog();

    @BeforeEach
    void open() {
        log = newLog();
    }

    @AfterEach
    void close() throws Exception {
        log.close();
    }

    static Entry entry(Instant time, String tool, String detail) {
        return new Entry("ignored", time, "acme/alice", "s1", "corr-1", tool, "hash", "notes", "VERDICT_ALLOW",
                         "file.read/default-risk", "", "OK", 0, 12, detail);
    }

    @Test
    void aRecordIsKeptAsAppendedUnderANewId() {
        final Entry stored = log.append(entry(T0, "file.read", "fine"));
        assertThat(stored.id()).isNotEmpty().isNotEqualTo("ignored");
        assertThat(log.list(List.of(), 10).entries()).containsExactly(stored);
        assertThat(stored).usingRecursiveComparison().ignoringFields("id").isEqualTo(entry(T0, "file.read", "fine"));
    }

    @Test
    void aLongDetailIsCut() {
        final Entry stored = log.append(entry(T0, "shell.run", "x".repeat(AuditLog.MAX_DETAIL + 500)));
        assertThat(stored.detail()).hasSize(AuditLog.MAX_DETAIL);
        assertThat(log.list(List.of(), 1).entries().get(0).detail()).hasSize(AuditLog.MAX_DETAIL);
    }

    @Test
    void pagesRunNewestFirstAndNeitherSkipNorRepeatWhileCallsGoOn() {
        final List<String> expected = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            expected.add(0, log.append(entry(T0.plusMillis(i / 3), "t" + i, "")).id()); // ties in time
        }
        final List<String> seen = new ArrayList<>();
        List<String> after = List.of();
        int pages = 0;
        do {
            final AuditLog.Page page = log.list(after, 3);
            page.entries().forEach(e -> seen.add(e.id()));
            after = page.nextKey();
            log.append(entry(T0.plusSeconds(60 + pages), "late", "")); // newer: before the first page
            pages++;
        } while (!after.isEmpty());
        assertThat(seen).containsExactlyElementsOf(expected);
        assertThat(pages).isEqualTo(3);
    }

    @Test
    void aResultIsRememberedOncePerPrincipalAndForgottenWhenOld() {
        final long now = T0.toEpochMilli();
        assertThat(log.response("acme/alice", "r1", 0)).isEmpty();
        log.rememberResponse("acme/alice", "r1", new byte[] {1}, now, now - 1000);
        log.rememberResponse("acme/alice", "r1", new byte[] {2}, now + 1, now - 1000); // the first stays
        assertThat(log.response("acme/alice", "r1", now - 1)).hasValueSatisfying(r -> assertThat(r).containsExactly(1));
        assertThat(log.response("acme/bob", "r1", 0)).isEmpty();
        assertThat(log.response("globex/alice", "r1", 0)).isEmpty();
        assertThat(log.response("acme/alice", "r1", now + 1)).isEmpty(); // older than asked for
        log.rememberResponse("acme/alice", "r2", new byte[] {3}, now + 10, now + 5); // forgets r1
        log.rememberResponse("acme/alice", "r1", new byte[] {4}, now + 10, now + 5);
        assertThat(log.response("acme/alice", "r1", 0)).hasValueSatisfying(r -> assertThat(r).containsExactly(4));
    }

    @Test
    void anEmptyLogHasOneEmptyPage() {
        final AuditLog.Page page = log.list(List.of(), 10);
        assertThat(page.entries()).isEmpty();
        assertThat(page.nextKey()).isEmpty();
    }

    @Test
    void concurrentAppendsAreAllKept() throws Exception {
        final int threads = 8;
        final int each = 25;
        final ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            final CountDownLatch go = new CountDownLatch(1);
            final List<Future<List<String>>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                final int thread = t;
                futures.add(pool.submit(() -> {
                    go.await();
                    final List<String> ids = new ArrayList<>();
                    for (int i = 0; i < each; i++) {
                        ids.add(log.append(entry(T0.plusMillis(i), "t" + thread, "")).id());
                    }
                    return ids;
                }));
            }
            go.countDown();
            final Set<String> appended = new HashSet<>();
            for (Future<List<String>> f : futures) {
                appended.addAll(f.get());
            }
            assertThat(appended).hasSize(threads * each);
            assertThat(log.list(List.of(), threads * each + 1).entries()).extracting(Entry::id)
                                                                          .containsExactlyInAnyOrderElementsOf(appended);
        } finally {
            pool.shutdownNow();
        }
    }
}

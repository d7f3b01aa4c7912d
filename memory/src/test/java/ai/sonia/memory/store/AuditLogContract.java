package ai.sonia.memory.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import ai.sonia.common.v1.Scope;
import ai.sonia.memory.domain.Actor;
import ai.sonia.memory.domain.AuditLog;
import ai.sonia.memory.domain.LedgerView;
import ai.sonia.memory.domain.MemoryStore;
import ai.sonia.memory.domain.MemoryStore.NewMemory;
import ai.sonia.memory.v1.AuditAction;
import ai.sonia.memory.v1.AuditRecord;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryKind;

/**
 * What every {@link AuditLog} must do, with the {@link MemoryStore} whose writes it records: one record per
 * change, newest first, seen per tenant and principal, paged without skips or repeats.
 */
public abstract class AuditLogContract {

    private static final long NOW = 1_700_000_000_000L;
    private static final Actor ANN = new Actor("user:a/ann", "c1");
    private static final Actor BOB = new Actor("user:a/bob", "c2");

    private MemoryStore store;
    private AuditLog log;

    /** A new, empty store. */
    protected abstract MemoryStore newStore();

    /** The audit log that records {@code store}'s writes. */
    protected abstract AuditLog auditLogOf(MemoryStore store);

    @BeforeEach
    void open() {
        store = newStore();
        log = auditLogOf(store);
    }

    @AfterEach
    void close() {
        store.close();
    }

    private String store(String tenant, Actor actor, String text) {
        return store.store(new NewMemory(Memory.newBuilder().setText(text).setKind(MemoryKind.MEMORY_KIND_NOTE)
                                               .setScope(Scope.newBuilder().setTenant(tenant)).build(),
                                         Integer.toHexString(text.hashCode()), new float[] {1, 0}, "m", null, ""),
                           actor, NOW).row().memory().getName();
    }

    @Test
    void everyChangeLeavesOneRecordNewestFirst() {
        final String name = store("a", ANN, "Audited.");
        store.invalidate(name, "stale", ANN, NOW);
        final String forgotten = store.forget(name, "privacy", BOB, NOW).auditRecord();

        final List<AuditRecord> records = log.list(new LedgerView("", "", ""), name, 0, 10);
        assertThat(records).extracting(AuditRecord::getAction).containsExactly(
                AuditAction.AUDIT_ACTION_FORGET, AuditAction.AUDIT_ACTION_INVALIDATE, AuditAction.AUDIT_ACTION_STORE);
        assertThat(records.get(0).getName()).isEqualTo(forgotten);
        assertThat(records.get(0).getPrincipal()).isEqualTo("user:a/bob");
        assertThat(records.get(0).getCorrelationId()).isEqualTo("c2");
        assertThat(records.get(0).getTenant()).isEqualTo("a");
        assertThat(records.get(0).getDetail()).doesNotContain("Audited.");
    }

    @Test
    void aViewSeesItsTenantAndPrincipalOnly() {
        store("a", ANN, "Ann's.");
        store("a", BOB, "Bob's.");
        store("b", ANN, "Other tenant.");

        assertThat(log.list(new LedgerView("a", "", ""), "", 0, 10)).hasSize(2);
        assertThat(log.list(new LedgerView("a", "ann", "user:a/ann"), "", 0, 10)).extracting(AuditRecord::getTenant)
                                                                                .containsExactly("a");
        assertThat(log.list(new LedgerView("", "", ""), "", 0, 10)).hasSize(3);
    }

    @Test
    void pagesNeitherSkipNorRepeatWhileRecordsAreAdded() {
        for (int i = 0; i < 5; i++) {
            store("p", ANN, "Record " + i);
        }
        final List<String> seen = new java.util.ArrayList<>();
        long before = 0;
        while (true) {
            final List<AuditRecord> page = log.list(new LedgerView("p", "", ""), "", before, 2);
            page.forEach(record -> seen.add(record.getName()));
            if (page.size() < 2) {
                break;
            }
            final String last = page.get(1).getName();
            before = Long.parseLong(last.substring(last.indexOf('/') + 1));
            store("p", ANN, "Added " + seen.size());
        }
        assertThat(seen).doesNotHaveDuplicates().hasSize(5);
    }

    @Test
    void aRestoreIsRecorded() {
        final String record = log.recordRestore("b1", ANN, NOW);
        assertThat(log.list(new LedgerView("", "", ""), "", 0, 1)).extracting(AuditRecord::getName)
                                                                 .containsExactly(record);
        assertThat(log.list(new LedgerView("", "", ""), "", 0, 1).get(0).getDetail()).isEqualTo("backup_id=b1");
    }
}

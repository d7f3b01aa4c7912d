package ai.sonia.gateway.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import ai.sonia.common.v1.Role;
import ai.sonia.gateway.domain.AccountStore;
import ai.sonia.gateway.domain.AccountStore.KeyRow;
import ai.sonia.gateway.domain.AccountStore.UserRow;

/**
 * What every {@link AccountStore} does, whatever its engine: each implementation's test extends this with a
 * fresh, empty store per test.
 */
public abstract class AccountStoreContract {

    /** A new, empty store. */
    protected abstract AccountStore newStore();

    private AccountStore store;

    @BeforeEach
    void open() {
        store = newStore();
    }

    private static UserRow user(String id, String tenant, String username, Role role) {
        return new UserRow(id, tenant, username, username.toUpperCase(), "hash-" + id, role, 1000, false, false);
    }

    private static KeyRow key(String id, String tenant, String owner, long createMs) {
        return new KeyRow(id, tenant, owner, "key " + id, Role.ROLE_USER, "secret-" + id, createMs, 0);
    }

    @Test
    void aUserIsFoundByIdAndNameButNotFromAnotherTenant() {
        store.insertUser(user("u1", "t1", "alice", Role.ROLE_ADMIN));
        assertThat(store.countUsers()).isEqualTo(1);
        assertThat(store.user("u1")).get().extracting(UserRow::username).isEqualTo("alice");
        assertThat(store.userByName("ALICE")).get().extracting(UserRow::id).isEqualTo("u1");
        assertThat(store.user("t1", "u1")).isPresent();
        assertThat(store.user("t2", "u1")).isEmpty();
        assertThat(store.users("t2", "", 10)).isEmpty();
    }

    @Test
    void aGeneratedPasswordMustChangeUntilTheUserSetsOne() {
        store.insertUser(new UserRow("u1", "t1", "admin", "Admin", "hash-1", Role.ROLE_ADMIN, 1000, false, true));
        store.insertUser(user("u2", "t1", "bob", Role.ROLE_USER));
        assertThat(store.user("u1")).get().extracting(UserRow::mustChangePassword).isEqualTo(true);
        assertThat(store.user("u2")).get().extracting(UserRow::mustChangePassword).isEqualTo(false);
        store.setPasswordHash("u1", "hash-chosen");
        assertThat(store.user("u1")).get().satisfies(u -> {
            assertThat(u.mustChangePassword()).isFalse();
            assertThat(u.passwordHash()).isEqualTo("hash-chosen");
        });
    }

    @Test
    void unknownThingsAreEmptyOrFalse() {
        assertThat(store.user("nobody")).isEmpty();
        assertThat(store.userByName("nobody")).isEmpty();
        assertThat(store.key("nokey")).isEmpty();
        assertThat(store.refreshToken("nohash")).isEmpty();
        assertThat(store.revokeKey("nokey", 5)).isFalse();
        assertThat(store.revokeSession("nosession", 5)).isFalse();
        assertThat(store.revokeSessionsOf("nobody", "", 5)).isEmpty();
    }

    @Test
    void aTakenUsernameIsAlreadyExistsInAnyTenantAndAnyCase() {
        store.insertUser(user("u1", "t1", "alice", Role.ROLE_ADMIN));
        assertThatThrownBy(() -> store.insertUser(user("u2", "t2", "Alice", Role.ROLE_USER)))
                .satisfies(StoreErrors::assertAlreadyExists);
        assertThat(store.user("u2")).isEmpty();
        assertThat(store.countUsers()).isEqualTo(1);
    }

    @Test
    void usersArePagedByNameWithoutSkipOrRepeatWhenUsersAreAddedBetweenPages() {
        for (String name : List.of("bob", "dan", "fay", "hal")) {
            store.insertUser(user("u-" + name, "t1", name, Role.ROLE_USER));
        }
        store.insertUser(user("other", "t2", "carl", Role.ROLE_USER));
        final List<UserRow> first = store.users("t1", "", 2);
        assertThat(first).extracting(UserRow::username).containsExactly("bob", "dan");
        store.insertUser(user("u-ann", "t1", "ann", Role.ROLE_USER)); // before the cursor: not in later pages
        store.insertUser(user("u-eve", "t1", "eve", Role.ROLE_USER)); // after it: in the next page
        assertThat(store.users("t1", "dan", 2)).extracting(UserRow::username).containsExactly("eve", "fay");
        assertThat(store.users("t1", "fay", 2)).extracting(UserRow::username).containsExactly("hal");
    }

    @Test
    void theLastEnabledAdminOfATenantStays() {
        final UserRow admin = user("a1", "t1", "admin1", Role.ROLE_ADMIN);
        store.insertUser(admin);
        store.insertUser(user("a2", "t2", "admin2", Role.ROLE_ADMIN)); // another tenant's admin does not count
        assertThat(store.setRoleAndDisabled(admin, Role.ROLE_USER, false)).isFalse();
        assertThat(store.setRoleAndDisabled(admin, Role.ROLE_ADMIN, true)).isFalse();
        assertThat(store.deleteUser(admin, 5)).isFalse();
        final UserRow second = user("a3", "t1", "admin3", Role.ROLE_ADMIN);
        store.insertUser(second);
        assertThat(store.setRoleAndDisabled(admin, Role.ROLE_USER, false)).isTrue();
        assertThat(store.user("a1")).get().extracting(UserRow::role).isEqualTo(Role.ROLE_USER);
        assertThat(store.deleteUser(store.user("a3").orElseThrow(), 5)).isFalse();
    }

    @Test
    void deletingAUserRevokesItsKeys() {
        store.insertUser(user("a1", "t1", "admin1", Role.ROLE_ADMIN));
        final UserRow bob = user("u1", "t1", "bob", Role.ROLE_USER);
        store.insertUser(bob);
        store.insertKey(key("k1", "t1", "u1", 10));
        assertThat(store.deleteUser(bob, 20)).isTrue();
        assertThat(store.user("u1")).isEmpty();
        assertThat(store.key("k1")).get().extracting(KeyRow::revokedMs).isEqualTo(20L);
    }

    @Test
    void aRefreshTokenRotatesOnceAndSessionsAreRevoked() {
        store.insertSession("s1", "u1", "h1", 100, 1000);
        assertThat(store.refreshToken("h1")).get().satisfies(r -> {
            assertThat(r.sessionId()).isEqualTo("s1");
            assertThat(r.userId()).isEqualTo("u1");
            assertThat(r.usedMs()).isZero();
        });
        assertThat(store.rotate("h1", "s1", "h2", 200, 2000)).isTrue();
        assertThat(store.rotate("h1", "s1", "h3", 300, 3000)).isFalse();
        assertThat(store.refreshToken("h1")).get().extracting(AccountStore.RefreshRow::usedMs).isEqualTo(200L);
        assertThat(store.refreshToken("h2")).isPresent();
        assertThat(store.refreshToken("h3")).isEmpty();
        store.insertSession("s2", "u1", "h4", 100, 1000);
        store.insertSession("s3", "u1", "h5", 100, 1000);
        assertThat(store.revokeSessionsOf("u1", "s3", 400)).containsExactlyInAnyOrder("s1", "s2");
        assertThat(store.revokeSession("s1", 500)).isFalse();
        assertThat(store.revokeSession("s3", 500)).isTrue();
        assertThat(store.refreshToken("h2")).get().extracting(AccountStore.RefreshRow::sessionRevokedMs).isEqualTo(400L);
    }

    @Test
    void keysArePagedNewestFirstPerTenantAndOwnerWithoutSkipOrRepeat() {
        store.insertKey(key("k1", "t1", "u1", 10));
        store.insertKey(key("k2", "t1", "u2", 20));
        store.insertKey(key("k3", "t1", "u1", 20));
        store.insertKey(key("k4", "t1", "u1", 30));
        store.insertKey(key("x1", "t2", "u9", 40));
        final List<KeyRow> first = store.keys("t1", null, 0, "", 2);
        assertThat(first).extracting(KeyRow::id).containsExactly("k4", "k2");
        store.insertKey(key("k5", "t1", "u1", 50)); // newer than the cursor: not in later pages
        final KeyRow last = first.get(1);
        assertThat(store.keys("t1", null, last.createMs(), last.id(), 10)).extracting(KeyRow::id)
                                                                           .containsExactly("k3", "k1");
        assertThat(store.keys("t1", "u1", 0, "", 10)).extracting(KeyRow::id).containsExactly("k5", "k4", "k3", "k1");
        assertThat(store.revokeKey("k3", 60)).isTrue();
        assertThat(store.revokeKey("k3", 70)).isFalse();
        assertThat(store.keys("t1", "u1", 0, "", 10)).extracting(KeyRow::id).containsExactly("k5", "k4", "k1");
        assertThat(store.keys("t3", null, 0, "", 10)).isEmpty();
    }

    @Test
    void requestIdsArePerCallerAndMethodAndForgottenAfterTheirTime() {
        assertThat(store.requestResult("t1/u1", "CreateApiKey", "r1", 0)).isEmpty();
        store.rememberRequest("t1/u1", "CreateApiKey", "r1", "k1", 1000, 0);
        assertThat(store.requestResult("t1/u1", "CreateApiKey", "r1", 500)).contains("k1");
        assertThat(store.requestResult("t1/u1", "CreateApiKey", "r1", 1500)).isEmpty();
        assertThat(store.requestResult("t1/u2", "CreateApiKey", "r1", 0)).isEmpty();
        assertThat(store.requestResult("t1/u1", "Register", "r1", 0)).isEmpty();
        store.rememberRequest("t1/u1", "Register", "r2", "u9", 5000, 2000); // forgets what is older than 2000
        assertThat(store.requestResult("t1/u1", "CreateApiKey", "r1", 0)).isEmpty();
        assertThat(store.requestResult("t1/u1", "Register", "r2", 0)).contains("u9");
    }

    @Test
    void aLiveKeysSecretCanBeReplaced() {
        store.insertKey(key("k1", "t1", "u1", 10));
        assertThat(store.setKeySecret("k1", "new-hash")).isTrue();
        assertThat(store.key("k1")).get().extracting(KeyRow::secretHash).isEqualTo("new-hash");
        store.revokeKey("k1", 20);
        assertThat(store.setKeySecret("k1", "other")).isFalse();
        assertThat(store.setKeySecret("nokey", "other")).isFalse();
    }

    @Test
    void concurrentWritersLoseNothingAndARefreshTokenRotatesOnlyOnce() throws Exception {
        final ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            final List<Future<?>> inserts = new ArrayList<>();
            IntStream.range(0, 64).forEach(i -> inserts.add(pool.submit(() -> {
                store.insertUser(user("u" + i, "t" + i % 4, "user" + i, Role.ROLE_USER));
                store.insertKey(key("k" + i, "t" + i % 4, "u" + i, i));
            })));
            for (Future<?> insert : inserts) {
                insert.get();
            }
            assertThat(store.countUsers()).isEqualTo(64);
            assertThat(store.keys("t1", null, 0, "", 100)).hasSize(16);

            store.insertSession("s1", "u1", "h1", 1, 1000);
            final List<Callable<Boolean>> rotations = new ArrayList<>();
            IntStream.range(0, 16).forEach(i -> rotations.add(() -> store.rotate("h1", "s1", "next" + i, 2, 1000)));
            long won = 0;
            for (Future<Boolean> rotation : pool.invokeAll(rotations)) {
                won += rotation.get() ? 1 : 0;
            }
            assertThat(won).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
    }
}

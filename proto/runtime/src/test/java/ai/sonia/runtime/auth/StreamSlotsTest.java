package ai.sonia.runtime.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import ai.sonia.common.v1.Role;

/** Streams counted per principal: the cap, independence of principals, and slots given back once. */
class StreamSlotsTest {

    private final Principal alice = Principal.user("acme", "alice", Role.ROLE_USER);
    private final Principal aliceElsewhere = Principal.user("globex", "alice", Role.ROLE_USER);

    @Test
    void aPrincipalGetsAtMostMaxAndAReleaseGivesOneBackOnce() {
        final StreamSlots slots = new StreamSlots(2);
        final Runnable first = slots.tryAcquire(alice);
        assertThat(first).isNotNull();
        assertThat(slots.tryAcquire(alice)).isNotNull();
        assertThat(slots.tryAcquire(alice)).isNull();
        // The same user name in another tenant is another principal.
        assertThat(slots.tryAcquire(aliceElsewhere)).isNotNull();
        first.run();
        first.run(); // twice gives back one slot, not two
        assertThat(slots.held(alice)).isEqualTo(1);
        assertThat(slots.tryAcquire(alice)).isNotNull();
        assertThat(slots.tryAcquire(alice)).isNull();
    }

    @Test
    void aCapBelowOneIsRefused() {
        assertThatThrownBy(() -> new StreamSlots(0)).isInstanceOf(IllegalArgumentException.class)
                                                    .hasMessageContaining("max: 0");
    }
}

package ai.sonia.gateway.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.runtime.errors.DomainException;

/**
 * A password check costs CPU by design, so only so many run at once: a client logging in as fast as it may cannot
 * take every core from everybody else's requests; a check that cannot start in time is refused RATE_LIMITED with
 * Retry-After, and the next one runs once a permit is free.
 */
class PasswordsTest {

    @Test
    void aCheckThatCannotStartInTimeIsRefusedWithRetryAfterAndTheNextRunsOnceAPermitIsFree() throws Exception {
        final List<Long> retryAfter = new ArrayList<>();
        final CurrentRequest request = new CurrentRequest() {
            @Override
            public String clientAddress() {
                return "192.0.2.7";
            }

            @Override
            public void retryAfter(long seconds) {
                retryAfter.add(seconds);
            }
        };
        final Passwords passwords = new Passwords(4, 1, Duration.ofMillis(200), request);
        final String hash = passwords.hash("correct horse battery staple");

        // Another request holds the only permit (as a long hash would).
        final CountDownLatch holding = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final CompletableFuture<Boolean> other = CompletableFuture.supplyAsync(() -> passwords.withPermit(() -> {
            holding.countDown();
            try {
                return release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }));
        assertThat(holding.await(10, TimeUnit.SECONDS)).isTrue();

        assertThatThrownBy(() -> passwords.verify("correct horse battery staple", hash))
                .isInstanceOfSatisfying(DomainException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.ERROR_CODE_RATE_LIMITED);
                    assertThat(e.getMessage()).contains("too many passwords are being checked at once");
                });
        assertThat(retryAfter).containsExactly(1L);

        release.countDown();
        assertThat(other.get(10, TimeUnit.SECONDS)).isTrue();
        assertThat(passwords.verify("correct horse battery staple", hash)).isTrue();
        assertThat(passwords.verify("wrong horse battery staple", hash)).isFalse();
    }
}

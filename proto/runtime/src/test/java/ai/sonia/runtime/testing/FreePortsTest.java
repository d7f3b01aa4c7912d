package ai.sonia.runtime.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.server.Server;

import ai.sonia.runtime.StartupErrors;

class FreePortsTest {

    @Test
    void picksDistinctFreePortsBelowTheEphemeralRange() throws Exception {
        final int ephemeralLow = Integer.parseInt(
                Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim().split("\\s+")[0]);
        final Set<Integer> ports = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            final int port = FreePorts.pick();
            assertThat(port).isBetween(FreePorts.LOWEST, ephemeralLow - 1);
            assertThat(FreePorts.free(port)).isTrue();
            assertThat(ports.add(port)).as("picked twice: %d", port).isTrue();
        }
    }

    @Test
    void anArmeriaServerOnATakenPortFailsInAWayThatIsRetried() throws Exception {
        final int port = FreePorts.pick();
        try (ServerSocket taken = new ServerSocket(port)) {
            assertThat(FreePorts.free(port)).isFalse();
            final Server server = Server.builder().http(port).service("/", (ctx, req) -> HttpResponse.of(200)).build();
            assertThatThrownBy(() -> server.start().join())
                    .satisfies(e -> assertThat(FreePorts.inUse(e)).as("%s", e).isTrue())
                    // what a Sonia process prints then, and a test reads from its output
                    .satisfies(e -> assertThat(FreePorts.inUse(new IllegalStateException(StartupErrors.describe(e))))
                            .isTrue());
            server.stop().join();
        }
    }

    @Test
    void retriesOnlyATakenPortAndOnlyAFewTimes() throws Exception {
        final AtomicInteger calls = new AtomicInteger();
        assertThat(FreePorts.retrying(() -> {
            if (calls.incrementAndGet() < FreePorts.ATTEMPTS) {
                throw new IllegalStateException("stack exited: port already in use (bind(..) failed)");
            }
            return "started";
        })).isEqualTo("started");
        assertThat(calls).hasValue(FreePorts.ATTEMPTS);

        calls.set(0);
        assertThatThrownBy(() -> FreePorts.retrying(() -> {
            calls.incrementAndGet();
            throw new java.net.BindException("Address already in use");
        })).isInstanceOf(java.net.BindException.class);
        assertThat(calls).hasValue(FreePorts.ATTEMPTS);

        calls.set(0);
        assertThatThrownBy(() -> FreePorts.retrying(() -> {
            calls.incrementAndGet();
            throw new IllegalStateException("the config is wrong");
        })).hasMessage("the config is wrong");
        assertThat(calls).hasValue(1);
    }
}

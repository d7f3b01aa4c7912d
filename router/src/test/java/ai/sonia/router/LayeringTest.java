package ai.sonia.router;

import org.junit.jupiter.api.Test;

import ai.sonia.runtime.testing.Layering;

/** The router's domain and store know nothing of gRPC or Armeria; the grpc package adapts them. */
class LayeringTest {

    @Test
    void domainAndStoreUseNoTransport() {
        Layering.assertDomainFree("router");
    }
}

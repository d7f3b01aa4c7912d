package ai.sonia.gateway;

import org.junit.jupiter.api.Test;

import ai.sonia.runtime.testing.Layering;

/** The gateway's domain and stores know nothing of gRPC or Armeria: its adapters (grpc, edge, sse, ws) do. */
class LayeringTest {

    @Test
    void domainAndStoresUseNoTransport() {
        Layering.assertDomainFree("gateway");
    }
}

package ai.sonia.evaos;

import org.junit.jupiter.api.Test;

import ai.sonia.runtime.testing.Layering;

/** EVA-OS's domain and stores know nothing of gRPC or Armeria. */
class LayeringTest {

    @Test
    void domainAndStoresAreFreeOfTransports() {
        Layering.assertDomainFree("evaos");
    }
}

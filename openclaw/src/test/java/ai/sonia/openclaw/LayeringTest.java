package ai.sonia.openclaw;

import org.junit.jupiter.api.Test;

import ai.sonia.runtime.testing.Layering;

/** OpenClaw's domain and stores know nothing of gRPC or Armeria. */
class LayeringTest {

    @Test
    void domainAndStoresAreFreeOfTransports() {
        Layering.assertDomainFree("openclaw");
    }
}

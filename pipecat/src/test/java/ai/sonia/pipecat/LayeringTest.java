package ai.sonia.pipecat;

import org.junit.jupiter.api.Test;

import ai.sonia.runtime.testing.Layering;

class LayeringTest {

    @Test
    void domainAndStoreKnowNoTransport() {
        Layering.assertDomainFree("pipecat");
    }
}

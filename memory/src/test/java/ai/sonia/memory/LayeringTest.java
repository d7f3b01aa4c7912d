package ai.sonia.memory;

import org.junit.jupiter.api.Test;

import ai.sonia.runtime.testing.Layering;

/** Memory's domain and store use no gRPC and no Armeria: the transport lives in its grpc adapter. */
class LayeringTest {

    @Test
    void domainAndStoreAreFreeOfTheTransport() {
        Layering.assertDomainFree("memory");
    }
}

package ai.sonia.pipecat;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.StartSessionRequest;
import ai.sonia.runtime.auth.ForwardedClient;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.auth.ServiceCredentials;

/**
 * The limit of connections per address counts the browser behind the gateway's console bridge (which vouches for
 * its address with the gateway's service credential), and nobody else can move a connection to another address.
 */
class ForwardedAddressTest {

    @RegisterExtension
    static final PipecatHarness pipecat = new PipecatHarness(Map.of("SONIA_PIPECAT_MAX_CONNECTIONS_PER_IP", "1"));

    @Test
    void theGatewayVouchesForEachBrowsersAddress() throws Exception {
        final String id = newSession();
        final String gateway = proof("gateway");
        final WsClient first = connect(id, "10.0.0.1", gateway);
        final WsClient second = connect(id, "10.0.0.2", gateway);
        for (WsClient client : List.of(first, second)) {
            client.await(e -> e.getType() == EventType.EVENT_TYPE_SESSION_START);
            assertThat(client.closeCode).isNotDone();
        }
        assertThat(connect(id, "10.0.0.1", gateway).awaitClose()).isEqualTo(4029);
        first.close();
        second.close();
    }

    @Test
    void aForgedForwardingHeaderChangesNothing() throws Exception {
        final String id = newSession();
        final WsClient own = connect(id, "10.0.1.1", "not-a-credential");
        own.await(e -> e.getType() == EventType.EVENT_TYPE_SESSION_START);
        // The user's own token, another service's credential, or none: each counts against the caller's address.
        for (String forged : List.of(pipecat.token, proof("memory"), "")) {
            final WsClient refused = connect(id, "10.0.1.2", forged);
            assertThat(refused.awaitClose()).as(forged).isEqualTo(4029);
        }
        own.close();
    }

    private static WsClient connect(String id, String address, String proof) throws Exception {
        final Map<String, String> headers = proof.isEmpty()
                ? Map.of("Authorization", "Bearer " + pipecat.token, ForwardedClient.ADDRESS, address)
                : Map.of("Authorization", "Bearer " + pipecat.token, ForwardedClient.ADDRESS, address,
                         ForwardedClient.PROOF, proof);
        return WsClient.connect(pipecat.port(), id + "?last_sequence=0", headers);
    }

    private static String proof(String service) {
        return ServiceCredentials.of(pipecat.config).issue(service, Principal.service(service));
    }

    private static String newSession() {
        return pipecat.blocking().startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
    }
}

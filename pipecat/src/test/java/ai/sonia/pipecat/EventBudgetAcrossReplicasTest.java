package ai.sonia.pipecat;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.pipecat.v1.StartSessionRequest;
import ai.sonia.runtime.testing.RedisServerExtension;

/**
 * Two pipecat replicas with {@code shared.engine: redis}: a session's per-minute event budget is one budget across
 * them, so a client sending through both gets no more than through one.
 */
class EventBudgetAcrossReplicasTest {

    private static final int BUDGET = 5;

    @RegisterExtension
    @Order(1)
    static final RedisServerExtension redis = new RedisServerExtension();

    @RegisterExtension
    @Order(2)
    static final PipecatHarness.Replicas replicas = new PipecatHarness.Replicas(() -> {
        final Map<String, String> settings = new HashMap<>(redis.env());
        settings.put("SONIA_PIPECAT_EVENTS_PER_MINUTE", String.valueOf(BUDGET));
        return new PipecatHarness(settings);
    });

    @Test
    void sendsThroughBothReplicasShareOneBudget() throws Exception {
        final String id = replicas.a.blocking().startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
        final WsClient onA = replicas.a.ws(id, 0);
        final WsClient onB = replicas.b.ws(id, 0);
        for (int i = 0; i < 3; i++) {
            final String messageId = "a-" + i;
            onA.send("{\"type\":\"EVENT_TYPE_STATUS\",\"message_id\":\"" + messageId + "\"}");
            onA.await(e -> e.getMessageId().equals(messageId));
        }
        for (int i = 0; i < 3; i++) {
            onB.send("{\"type\":\"EVENT_TYPE_STATUS\",\"message_id\":\"b-" + i + "\"}");
        }
        final SessionEvent refused = onB.await(e -> e.getErrorCode().equals("RATE_LIMITED"));
        assertThat(refused.getMessageId()).isEqualTo("b-2");
        assertThat(accepted(onA)).isEqualTo(3);
        assertThat(accepted(onB)).isEqualTo(BUDGET - 3);
        // A, whose own sends were all accepted, is out of budget too.
        onA.send("{\"type\":\"EVENT_TYPE_STATUS\",\"message_id\":\"a-late\"}");
        assertThat(onA.await(e -> e.getMessageId().equals("a-late")).getErrorCode()).isEqualTo("RATE_LIMITED");
        onA.close();
        onB.close();
    }

    private static long accepted(WsClient client) {
        return client.events.stream().filter(e -> e.getType() == EventType.EVENT_TYPE_STATUS
                                                  && e.getText().contains("last_sequence")).count();
    }
}

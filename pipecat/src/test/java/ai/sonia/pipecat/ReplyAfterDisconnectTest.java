package ai.sonia.pipecat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.GetSessionRequest;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.pipecat.v1.StartSessionRequest;

/** A client that leaves while the assistant is still answering, and comes back before the answer is there. */
class ReplyAfterDisconnectTest {

    @RegisterExtension
    static final PipecatHarness pipecat = new PipecatHarness();

    @Test
    void theReplyReachesTheClientThatCameBackBeforeItWasStored() throws Exception {
        final String id = pipecat.blocking().startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
        final CountDownLatch answer = new CountDownLatch(1);
        pipecat.gateway.replyWith(text -> {
            try {
                answer.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return "late: " + text;
        });
        try {
            final WsClient first = pipecat.ws(id, 0);
            first.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"message_id\":\"q-1\",\"text\":\"are you there\"}");
            final SessionEvent question = first.await(e -> "q-1".equals(e.getMessageId()) && e.getSequence() > 0);
            await().atMost(Duration.ofSeconds(30))
                   .until(() -> pipecat.gateway.requests.stream().anyMatch(r -> r.getSessionId().equals(id)));
            // The only connection goes while the assistant is answering, and the client comes back before the answer.
            first.close();
            first.awaitClose();
            final WsClient back = pipecat.ws(id, question.getSequence());
            answer.countDown();

            final SessionEvent reply = back.await(e -> e.getType() == EventType.EVENT_TYPE_MESSAGE
                                                       && e.getRole().equals("assistant"));
            assertThat(reply.getText()).isEqualTo("late: are you there");
            back.await(e -> e.getType() == EventType.EVENT_TYPE_TURN);

            // The next message follows the reply: one stream, no gap, nothing twice.
            pipecat.gateway.replyWith(text -> "echo: " + text);
            back.send("{\"type\":\"EVENT_TYPE_MESSAGE\",\"message_id\":\"q-2\",\"text\":\"again\"}");
            back.await(e -> e.getText().equals("echo: again"));
            back.await(e -> e.getType() == EventType.EVENT_TYPE_TURN && e.getSequence() > reply.getSequence());
            final List<Long> expected = new ArrayList<>();
            for (long s = question.getSequence() + 1; s <= question.getSequence() + 5; s++) {
                expected.add(s);
            }
            assertThat(back.sequences()).containsExactlyElementsOf(expected);
            assertThat(pipecat.blocking().getSession(GetSessionRequest.newBuilder().setSessionId(id).build())
                              .getHistoryList())
                    .extracting(h -> h.getRole() + ":" + h.getText())
                    .containsExactly("user:are you there", "assistant:late: are you there", "user:again",
                                     "assistant:echo: again");
            back.close();
        } finally {
            answer.countDown();
            pipecat.gateway.replyWith(text -> "echo: " + text);
        }
    }
}

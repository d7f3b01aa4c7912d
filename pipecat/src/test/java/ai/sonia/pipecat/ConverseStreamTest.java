package ai.sonia.pipecat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import ai.sonia.pipecat.v1.Attach;
import ai.sonia.pipecat.v1.ConverseRequest;
import ai.sonia.pipecat.v1.ConverseResponse;
import ai.sonia.pipecat.v1.DeleteSessionRequest;
import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.pipecat.v1.StartSessionRequest;
import ai.sonia.pipecat.v1.StopSessionRequest;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

class ConverseStreamTest {

    @RegisterExtension
    static final PipecatHarness pipecat = new PipecatHarness();

    @Test
    void theGrpcStreamSpeaksTheSameProtocol() throws Exception {
        final String id = pipecat.blocking().startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
        final Stream stream = new Stream();
        final StreamObserver<ConverseRequest> requests = pipecat.async().converse(stream);
        requests.onNext(ConverseRequest.newBuilder().setAttach(Attach.newBuilder().setSessionId(id)).build());
        requests.onNext(ConverseRequest.newBuilder().setEvent(
                SessionEvent.newBuilder().setType(EventType.EVENT_TYPE_MESSAGE).setMessageId("g-1").setText("hi"))
                                       .build());
        await().atMost(Duration.ofSeconds(20)).until(() -> stream.events.stream().anyMatch(
                e -> e.getType() == EventType.EVENT_TYPE_MESSAGE && e.getText().equals("echo: hi")));
        // A WebSocket client of the same session sees the same sequence.
        final WsClient ws = pipecat.ws(id, 0);
        ws.await(e -> e.getText().equals("echo: hi"));
        requests.onNext(ConverseRequest.newBuilder().setEvent(
                SessionEvent.newBuilder().setType(EventType.EVENT_TYPE_SESSION_STOP).setText("bye")).build());
        assertThat(stream.done.get(20, TimeUnit.SECONDS)).isEqualTo(Status.Code.OK);
        assertThat(ws.awaitClose()).isEqualTo(1000);
        assertThat(stream.sequences()).isEqualTo(ws.sequences());
    }

    @Test
    void unknownSessionEndsWithNotFound() throws Exception {
        final Stream stream = new Stream();
        final StreamObserver<ConverseRequest> requests = pipecat.async().converse(stream);
        requests.onNext(ConverseRequest.newBuilder().setAttach(Attach.newBuilder().setSessionId("ghost")).build());
        assertThat(stream.done.get(20, TimeUnit.SECONDS)).isEqualTo(Status.Code.NOT_FOUND);
    }

    @Test
    void aClosedSessionEndsWithFailedPreconditionADeletedOneWithNotFound() throws Exception {
        final String id = pipecat.blocking().startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
        pipecat.blocking().stopSession(StopSessionRequest.newBuilder().setSessionId(id).build());
        final Stream closed = new Stream();
        pipecat.async().converse(closed)
               .onNext(ConverseRequest.newBuilder().setAttach(Attach.newBuilder().setSessionId(id)).build());
        assertThat(closed.done.get(20, TimeUnit.SECONDS)).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(closed.events).anySatisfy(e -> assertThat(e.getErrorCode()).isEqualTo("CONFLICT"));

        pipecat.blocking().deleteSession(DeleteSessionRequest.newBuilder().setSessionId(id).build());
        final Stream deleted = new Stream();
        pipecat.async().converse(deleted)
               .onNext(ConverseRequest.newBuilder().setAttach(Attach.newBuilder().setSessionId(id)).build());
        assertThat(deleted.done.get(20, TimeUnit.SECONDS)).isEqualTo(Status.Code.NOT_FOUND);
    }

    @Test
    void anEventBeforeAttachIsInvalid() throws Exception {
        final Stream stream = new Stream();
        final StreamObserver<ConverseRequest> requests = pipecat.async().converse(stream);
        requests.onNext(ConverseRequest.newBuilder().setEvent(
                SessionEvent.newBuilder().setType(EventType.EVENT_TYPE_STATUS)).build());
        assertThat(stream.done.get(20, TimeUnit.SECONDS)).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(stream.events).anySatisfy(e -> assertThat(e.getErrorCode()).isEqualTo("INVALID_ARGUMENT"));
    }

    @Test
    void aClientThatTakesNoResponsesEndsResourceExhaustedWithThePositionToResumeFrom() throws Exception {
        try (PipecatHarness small = new PipecatHarness(java.util.Map.of(
                "SONIA_PIPECAT_SEND_QUEUE", "8", "SONIA_PIPECAT_MAX_WAITING_TURNS", "200"))) {
            final String big = "x".repeat(200_000);
            small.gateway.replyWith(text -> big);
            final String id = small.blocking().startSession(StartSessionRequest.getDefaultInstance()).getSessionId();
            final Stream slow = new Stream();
            slow.manual = true;
            final StreamObserver<ConverseRequest> requests = small.async().converse(slow);
            requests.onNext(ConverseRequest.newBuilder().setAttach(Attach.newBuilder().setSessionId(id)).build());
            final RawWs fast = RawWs.connect(small.port(), id + "?last_sequence=0", small.token, 0);
            fast.chatTurnByTurn(60);
            // SESSION_START, state=ACTIVE, then a user MESSAGE, the reply and a TURN per message.
            final long last = 2 + 3 * 60;
            await().atMost(Duration.ofSeconds(120)).until(() -> small.blocking().listSessions(
                    ai.sonia.pipecat.v1.ListSessionsRequest.getDefaultInstance()).getSessions(0).getLastSequence()
                                                                 == last);
            // Now the slow client takes what was sent to it: events in order, then the status.
            slow.requests.request(Integer.MAX_VALUE);
            assertThat(slow.done.get(30, TimeUnit.SECONDS)).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            final com.google.rpc.ErrorInfo info = io.grpc.protobuf.StatusProto.fromThrowable(slow.error)
                                                                              .getDetailsList().stream()
                    .filter(d -> d.is(com.google.rpc.ErrorInfo.class))
                    .map(d -> {
                        try {
                            return d.unpack(com.google.rpc.ErrorInfo.class);
                        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                            throw new IllegalStateException(e);
                        }
                    }).findFirst().orElseThrow();
            assertThat(info.getMetadataMap()).containsEntry("close_code", "4008");
            final long resumeFrom = Long.parseLong(info.getMetadataOrThrow("resume_from"));
            final List<Long> received = slow.sequences();
            assertThat(received.get(received.size() - 1)).isEqualTo(resumeFrom);
            assertThat(resumeFrom).isLessThan(last);
            fast.close();
        }
    }

    /** Records responses and how the stream ended. */
    static final class Stream implements io.grpc.stub.ClientResponseObserver<ConverseRequest,
                                                                                     ConverseResponse> {
        final List<SessionEvent> events = new CopyOnWriteArrayList<>();
        final CompletableFuture<Status.Code> done = new CompletableFuture<>();
        volatile Throwable error;
        // When set, responses are taken only when the test asks (requests.request(n)).
        boolean manual;
        io.grpc.stub.ClientCallStreamObserver<ConverseRequest> requests;

        @Override
        public void beforeStart(io.grpc.stub.ClientCallStreamObserver<ConverseRequest> requestStream) {
            requests = requestStream;
            if (manual) {
                requestStream.disableAutoRequestWithInitial(0);
            }
        }

        @Override
        public void onNext(ConverseResponse value) {
            events.add(value.getEvent());
        }

        @Override
        public void onError(Throwable t) {
            error = t;
            done.complete(Status.fromThrowable(t).getCode());
        }

        @Override
        public void onCompleted() {
            done.complete(Status.Code.OK);
        }

        List<Long> sequences() {
            return events.stream().map(SessionEvent::getSequence).filter(s -> s > 0).toList();
        }
    }
}

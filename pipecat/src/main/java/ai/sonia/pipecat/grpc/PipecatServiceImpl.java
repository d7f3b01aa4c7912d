package ai.sonia.pipecat.grpc;

import static ai.sonia.runtime.Unary.reply;

import com.linecorp.armeria.server.ServiceRequestContext;

import ai.sonia.pipecat.domain.CloseCode;
import ai.sonia.pipecat.domain.Conversations;
import ai.sonia.pipecat.domain.Sessions;
import ai.sonia.pipecat.v1.ConverseRequest;
import ai.sonia.pipecat.v1.ConverseResponse;
import ai.sonia.pipecat.v1.DeleteSessionRequest;
import ai.sonia.pipecat.v1.DeleteSessionResponse;
import ai.sonia.pipecat.v1.GetSessionRequest;
import ai.sonia.pipecat.v1.ListSessionsRequest;
import ai.sonia.pipecat.v1.ListSessionsResponse;
import ai.sonia.pipecat.v1.PauseSessionRequest;
import ai.sonia.pipecat.v1.PipecatServiceGrpc;
import ai.sonia.pipecat.v1.ResumeSessionRequest;
import ai.sonia.pipecat.v1.Session;
import ai.sonia.pipecat.v1.StartSessionRequest;
import ai.sonia.pipecat.v1.StopSessionRequest;
import ai.sonia.pipecat.v1.UpdateSessionRequest;
import ai.sonia.runtime.Correlation;
import ai.sonia.runtime.auth.CredentialWatch;
import ai.sonia.runtime.auth.Principal;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/**
 * The pipecat gRPC API: a thin adapter over {@link Sessions} and {@link Conversations}, which it hands the
 * request's principal (whose sessions these are).
 */
public final class PipecatServiceImpl extends PipecatServiceGrpc.PipecatServiceImplBase {

    private final Sessions sessions;
    private final Conversations conversations;
    private final int maxUnconsumed;

    /** {@code maxUnconsumed}: responses of a {@code Converse} stream the client may leave untaken. */
    public PipecatServiceImpl(Sessions sessions, Conversations conversations, int maxUnconsumed) {
        this.sessions = sessions;
        this.conversations = conversations;
        this.maxUnconsumed = maxUnconsumed;
    }

    @Override
    public void startSession(StartSessionRequest request, StreamObserver<Session> responseObserver) {
        reply(responseObserver, sessions.start(Principal.current(), request.getUserId(), request.getMetadataMap(),
                                               request.getVoice(), request.getRequestId(), correlationId()));
    }

    @Override
    public void getSession(GetSessionRequest request, StreamObserver<Session> responseObserver) {
        reply(responseObserver, sessions.get(Principal.current(), request.getSessionId()));
    }

    @Override
    public void listSessions(ListSessionsRequest request, StreamObserver<ListSessionsResponse> responseObserver) {
        reply(responseObserver, sessions.list(Principal.current(), request.getPageSize(), request.getPageToken(),
                                              request.getState()));
    }

    @Override
    public void pauseSession(PauseSessionRequest request, StreamObserver<Session> responseObserver) {
        reply(responseObserver, sessions.pause(Principal.current(), request.getSessionId(), correlationId()));
    }

    @Override
    public void resumeSession(ResumeSessionRequest request, StreamObserver<Session> responseObserver) {
        reply(responseObserver, sessions.resume(Principal.current(), request.getSessionId(), correlationId()));
    }

    @Override
    public void stopSession(StopSessionRequest request, StreamObserver<Session> responseObserver) {
        reply(responseObserver, sessions.stop(Principal.current(), request.getSessionId(), request.getReason(),
                                              correlationId()));
    }

    @Override
    public void updateSession(UpdateSessionRequest request, StreamObserver<Session> responseObserver) {
        reply(responseObserver, sessions.update(Principal.current(), request.getSession(),
                                                request.getUpdateMask().getPathsList(), correlationId()));
    }

    @Override
    public void deleteSession(DeleteSessionRequest request, StreamObserver<DeleteSessionResponse> responseObserver) {
        sessions.delete(Principal.current(), request.getSessionId(), correlationId());
        reply(responseObserver, DeleteSessionResponse.getDefaultInstance());
    }

    @Override
    public StreamObserver<ConverseRequest> converse(StreamObserver<ConverseResponse> responseObserver) {
        final ServiceRequestContext ctx = ServiceRequestContext.current();
        // A conversation lasts as long as the client stays; the inactivity TTL bounds it instead.
        ctx.clearRequestTimeout();
        final GrpcConversation conversation =
                new GrpcConversation(conversations, Principal.current(),
                                     (ServerCallStreamObserver<ConverseResponse>) responseObserver,
                                     ctx.clientAddress().getHostAddress(), correlationId(),
                                     ctx.blockingTaskExecutor(), maxUnconsumed);
        // The token was checked when the stream opened; one revoked since ends it (UNAUTHENTICATED).
        CredentialWatch.watch(ctx, () -> conversation.close(CloseCode.REVOKED, CredentialWatch.REVOKED));
        return conversation;
    }

    private static String correlationId() {
        final String id = Correlation.current();
        return id != null ? id : Correlation.generate();
    }
}

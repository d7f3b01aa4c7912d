package ai.sonia.gateway;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;

import ai.sonia.common.v1.TokenUsage;
import ai.sonia.common.v1.ToolCall;
import ai.sonia.evaos.v1.Approval;
import ai.sonia.evaos.v1.AuthorizeActionRequest;
import ai.sonia.evaos.v1.AuthorizeActionResponse;
import ai.sonia.evaos.v1.EvaOsServiceGrpc;
import ai.sonia.evaos.v1.Verdict;
import ai.sonia.memory.v1.MemoryServiceGrpc;
import ai.sonia.memory.v1.SearchHit;
import ai.sonia.memory.v1.SearchMemoriesRequest;
import ai.sonia.memory.v1.SearchMemoriesResponse;
import ai.sonia.memory.v1.StoreMemoryRequest;
import ai.sonia.memory.v1.StoreMemoryResponse;
import ai.sonia.openclaw.v1.ExecuteToolRequest;
import ai.sonia.openclaw.v1.ExecuteToolResponse;
import ai.sonia.openclaw.v1.OpenClawServiceGrpc;
import ai.sonia.options.v1.RiskLevel;
import ai.sonia.router.v1.ChatRequest;
import ai.sonia.router.v1.ChatResponse;
import ai.sonia.router.v1.RouterServiceGrpc;
import ai.sonia.router.v1.StreamChatRequest;
import ai.sonia.router.v1.StreamChatResponse;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/**
 * Small, scripted implementations of the gateway's downstream services, served by real servers in the
 * tests. Each counts the calls it receives, so retries and fail-fast are counted at the server.
 */
final class FakeDownstreams {

    /** What a fake does next: answer, fail with a status, or hang until cancelled. */
    enum Mode { OK, UNAVAILABLE, SLOW }

    static final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    static volatile Mode memoryMode = Mode.OK;
    static volatile Mode routerMode = Mode.OK;
    static volatile int memoryFailuresBeforeSuccess;
    static volatile CountDownLatch routerCancelled = new CountDownLatch(1);
    /** System.nanoTime() of each router call cancellation, for the deadline benchmark. */
    static final java.util.Queue<Long> routerCancelTimes = new java.util.concurrent.ConcurrentLinkedQueue<>();
    /** Tenants whose tools run into their own requested timeout: 1 s, then DEADLINE_EXCEEDED (TIMEOUT). */
    static final java.util.Set<String> toolTimeoutTenants = java.util.concurrent.ConcurrentHashMap.newKeySet();

    static void reset() {
        calls.clear();
        memoryMode = Mode.OK;
        routerMode = Mode.OK;
        memoryFailuresBeforeSuccess = 0;
        routerCancelled = new CountDownLatch(1);
        toolTimeoutTenants.clear();
    }

    static int count(String method) {
        return calls.getOrDefault(method, new AtomicInteger()).get();
    }

    private static void count(String method, Object unused) {
        calls.computeIfAbsent(method, k -> new AtomicInteger()).incrementAndGet();
    }

    static final class Memory extends MemoryServiceGrpc.MemoryServiceImplBase {
        @Override
        public void searchMemories(SearchMemoriesRequest request, StreamObserver<SearchMemoriesResponse> out) {
            count("SearchMemories", request);
            if (memoryMode == Mode.UNAVAILABLE || memoryFailuresBeforeSuccess > 0) {
                memoryFailuresBeforeSuccess--;
                out.onError(Status.UNAVAILABLE.withDescription("memory is down").asRuntimeException());
                return;
            }
            out.onNext(SearchMemoriesResponse.newBuilder()
                                             .addHits(SearchHit.newBuilder().setScore(0.83).setMemory(
                                                     ai.sonia.memory.v1.Memory.newBuilder().setName("memories/m1")
                                                                             .setText("The user's cat is called Miso.")))
                                             .build());
            out.onCompleted();
        }

        @Override
        public void storeMemory(StoreMemoryRequest request, StreamObserver<StoreMemoryResponse> out) {
            count("StoreMemory", request);
            if (memoryMode == Mode.UNAVAILABLE) {
                out.onError(Status.UNAVAILABLE.withDescription("memory is down").asRuntimeException());
                return;
            }
            out.onNext(StoreMemoryResponse.newBuilder().setCreated(true).setMemory(
                    request.getMemory().toBuilder().setName("memories/turn-1")).build());
            out.onCompleted();
        }
    }

    static final class Router extends RouterServiceGrpc.RouterServiceImplBase {
        @Override
        public void chat(ChatRequest request, StreamObserver<ChatResponse> out) {
            count("Chat", request);
            if (routerMode == Mode.UNAVAILABLE) {
                out.onError(Status.UNAVAILABLE.withDescription("no deployment answered").asRuntimeException());
                return;
            }
            if (routerMode == Mode.SLOW) {
                ((ServerCallStreamObserver<ChatResponse>) out).setOnCancelHandler(() -> {
                    routerCancelTimes.add(System.nanoTime());
                    routerCancelled.countDown();
                });
                return; // never answers: the caller's deadline must end it
            }
            final String question = request.getMessages(request.getMessagesCount() - 1).getContent();
            final ChatResponse.Builder answer = ChatResponse.newBuilder()
                    .setContent("You asked: " + question + " (context: " + request.getContextCount() + ")")
                    .setModel("echo-1").setDeployment("fake/echo-1").setProvider("fake")
                    .setUsage(TokenUsage.newBuilder().setPromptTokens(12).setCompletionTokens(5)
                                        .setTotalTokens(17).setCostMicros(34));
            if (request.hasTemperature() && request.getTemperature() == 0) {
                answer.setCached(true); // as the real router says of a deterministic request it answered before
            }
            if (question.contains("list files") && request.getToolsCount() > 0) {
                answer.addToolCalls(ToolCall.newBuilder().setId("c1").setToolName("file.list").setArgumentsJson("{}"));
            }
            out.onNext(answer.build());
            out.onCompleted();
        }

        @Override
        public void streamChat(StreamChatRequest request, StreamObserver<StreamChatResponse> out) {
            count("StreamChat", request);
            final ServerCallStreamObserver<StreamChatResponse> stream = (ServerCallStreamObserver<StreamChatResponse>) out;
            stream.setOnCancelHandler(() -> routerCancelled.countDown());
            for (String piece : new String[] {"Hello", ", ", "world"}) {
                stream.onNext(StreamChatResponse.newBuilder().setDelta(piece).build());
            }
            if (routerMode == Mode.SLOW) {
                return; // keeps the stream open until cancelled
            }
            stream.onNext(StreamChatResponse.newBuilder().setFinal(ChatResponse.newBuilder()
                    .setModel("echo-1").setDeployment("fake/echo-1").setProvider("fake")
                    .setUsage(TokenUsage.newBuilder().setTotalTokens(3))).build());
            stream.onCompleted();
        }
    }

    static final class EvaOs extends EvaOsServiceGrpc.EvaOsServiceImplBase {
        @Override
        public void watchApprovals(ai.sonia.evaos.v1.WatchApprovalsRequest request,
                                   StreamObserver<ai.sonia.evaos.v1.WatchApprovalsResponse> out) {
            count("WatchApprovals", request);
            // Says whom EVA-OS saw, so a test can check that the watch acts for the socket's principal.
            out.onNext(ai.sonia.evaos.v1.WatchApprovalsResponse.newBuilder().setApproval(
                    Approval.newBuilder().setApprovalId("ap-1")
                            .setRequestedBy(ai.sonia.runtime.auth.Principal.current().audit())).build());
        }

        @Override
        public void authorizeAction(AuthorizeActionRequest request, StreamObserver<AuthorizeActionResponse> out) {
            count("AuthorizeAction", request);
            final AuthorizeActionResponse.Builder decision = AuthorizeActionResponse.newBuilder().setActionHash("h");
            switch (request.getToolName()) {
                case "file.list", "calc.eval" -> decision.setVerdict(Verdict.VERDICT_ALLOW)
                                                         .setRisk(RiskLevel.RISK_LEVEL_LOW).setRule("low-risk");
                case "shell.run" -> decision.setVerdict(Verdict.VERDICT_REQUIRE_APPROVAL)
                                            .setRisk(RiskLevel.RISK_LEVEL_HIGH).setRule("shell/needs-approval")
                                            .setReason("runs a program")
                                            .setApproval(Approval.newBuilder().setApprovalId("ap-1"));
                default -> decision.setVerdict(Verdict.VERDICT_DENY).setRisk(RiskLevel.RISK_LEVEL_CRITICAL)
                                   .setRule("critical").setReason("never");
            }
            out.onNext(decision.build());
            out.onCompleted();
        }
    }

    static final class OpenClaw extends OpenClawServiceGrpc.OpenClawServiceImplBase {
        @Override
        public void executeTool(ExecuteToolRequest request, StreamObserver<ExecuteToolResponse> out) {
            count("ExecuteTool", request);
            if (toolTimeoutTenants.contains(ai.sonia.runtime.auth.Principal.current().tenant())) {
                // What OpenClaw answers for `timeout_seconds: 1` around a process that never ends.
                java.util.concurrent.CompletableFuture.delayedExecutor(1, java.util.concurrent.TimeUnit.SECONDS).execute(
                        () -> out.onError(ai.sonia.runtime.Errors.of("openclaw.sonia.ai", ai.sonia.common.v1.ErrorCode.ERROR_CODE_TIMEOUT,
                                                                     "shell.run timed out; its process group was killed", Map.of())));
                return;
            }
            out.onNext(ExecuteToolResponse.newBuilder().setExitCode(0).setDurationMs(3).setOutput(
                    Struct.newBuilder().putFields("entries", Value.newBuilder().setStringValue("a.txt").build())).build());
            out.onCompleted();
        }
    }

    private FakeDownstreams() {}
}

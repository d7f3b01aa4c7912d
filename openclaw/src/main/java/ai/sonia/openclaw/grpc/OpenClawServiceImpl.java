package ai.sonia.openclaw.grpc;

import static ai.sonia.runtime.Unary.reply;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import com.linecorp.armeria.server.ServiceRequestContext;

import ai.sonia.openclaw.catalog.ToolCatalog;
import ai.sonia.openclaw.domain.ToolExecutor;
import ai.sonia.openclaw.v1.ExecuteToolRequest;
import ai.sonia.openclaw.v1.ExecuteToolResponse;
import ai.sonia.openclaw.v1.GetToolRequest;
import ai.sonia.openclaw.v1.ListToolsRequest;
import ai.sonia.openclaw.v1.ListToolsResponse;
import ai.sonia.openclaw.v1.OpenClawServiceGrpc;
import ai.sonia.openclaw.v1.Tool;
import ai.sonia.runtime.Correlation;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.errors.DomainException;
import ai.sonia.runtime.paging.PageTokens;
import io.grpc.stub.StreamObserver;

/**
 * The openclaw gRPC API: the catalog, and execution through {@link ToolExecutor}, whose refusals the runtime's
 * exception handler maps.
 */
public final class OpenClawServiceImpl extends OpenClawServiceGrpc.OpenClawServiceImplBase {

    /** The query of ListTools' page tokens: the catalog has no filter. */
    private static final String LIST_TOOLS = "ListTools";
    private static final int MAX_REQUEST_ID = 128;

    private final ToolCatalog catalog;
    private final ToolExecutor executor;

    public OpenClawServiceImpl(ToolCatalog catalog, ToolExecutor executor) {
        this.catalog = catalog;
        this.executor = executor;
    }

    @Override
    public void listTools(ListToolsRequest request, StreamObserver<ListToolsResponse> responseObserver) {
        final List<Tool> tools = catalog.tools();
        final int size = PageTokens.pageSize(request.getPageSize(), tools.size(), tools.size());
        final Optional<List<String>> after = PageTokens.after(request.getPageToken(), LIST_TOOLS);
        final List<Tool> rest = after.isEmpty() ? tools : tools.stream().filter(
                t -> t.getName().compareTo(after.get().get(0)) > 0).toList();
        final ListToolsResponse.Builder response =
                ListToolsResponse.newBuilder().addAllTools(rest.subList(0, Math.min(size, rest.size())));
        if (rest.size() > size) {
            response.setNextPageToken(PageTokens.next(LIST_TOOLS, List.of(rest.get(size - 1).getName())));
        }
        reply(responseObserver, response.build());
    }

    @Override
    public void getTool(GetToolRequest request, StreamObserver<Tool> responseObserver) {
        if (request.getToolName().isEmpty()) {
            throw DomainException.invalidArgument("tool_name", "is required");
        }
        reply(responseObserver, catalog.find(request.getToolName()).orElseThrow(
                () -> DomainException.notFound("tool", request.getToolName())));
    }

    @Override
    public void executeTool(ExecuteToolRequest request, StreamObserver<ExecuteToolResponse> responseObserver) {
        if (request.getToolName().isEmpty()) {
            throw DomainException.invalidArgument("tool_name", "is required");
        }
        final ServiceRequestContext ctx = ServiceRequestContext.current();
        final Principal principal = Principal.current();
        if (principal.isService()) {
            throw DomainException.permissionDenied(
                    "a tool runs for a user: a service acting for itself has no workspace");
        }
        if (request.getRequestId().length() > MAX_REQUEST_ID) {
            throw DomainException.invalidArgument("request_id", "at most " + MAX_REQUEST_ID + " characters");
        }
        reply(responseObserver, executor.run(new ToolExecutor.Request(
                request.getToolName(), request.getArguments(), request.getWorkingDirectory(),
                request.getApprovalId(), request.getSessionId(), principal, Correlation.current(),
                Duration.ofMillis(ctx.requestTimeoutMillis()), request.getRequestId())));
    }
}

package ai.sonia.gateway.grpc;

import static ai.sonia.runtime.Unary.reply;

import ai.sonia.gateway.domain.ApiKeys;
import ai.sonia.gateway.v1.ApiKeyServiceGrpc;
import ai.sonia.gateway.v1.CreateApiKeyRequest;
import ai.sonia.gateway.v1.CreateApiKeyResponse;
import ai.sonia.gateway.v1.DeleteApiKeyRequest;
import ai.sonia.gateway.v1.DeleteApiKeyResponse;
import ai.sonia.gateway.v1.ListApiKeysRequest;
import ai.sonia.gateway.v1.ListApiKeysResponse;
import ai.sonia.runtime.auth.Principal;
import io.grpc.stub.StreamObserver;

/** {@code /api/keys}: adapters over {@link ApiKeys}. */
public final class ApiKeyServiceImpl extends ApiKeyServiceGrpc.ApiKeyServiceImplBase {

    private final ApiKeys keys;

    public ApiKeyServiceImpl(ApiKeys keys) {
        this.keys = keys;
    }

    @Override
    public void createApiKey(CreateApiKeyRequest request, StreamObserver<CreateApiKeyResponse> out) {
        reply(out, keys.create(Principal.current(), request.getName(), request.getRole(), request.getRequestId()));
    }

    @Override
    public void listApiKeys(ListApiKeysRequest request, StreamObserver<ListApiKeysResponse> out) {
        reply(out, keys.list(Principal.current(), request.getPageSize(), request.getPageToken()));
    }

    @Override
    public void deleteApiKey(DeleteApiKeyRequest request, StreamObserver<DeleteApiKeyResponse> out) {
        keys.delete(Principal.current(), request.getKeyId());
        reply(out, DeleteApiKeyResponse.getDefaultInstance());
    }
}

package ai.sonia.runtime;

import com.linecorp.armeria.server.ServiceRequestContext;

import io.grpc.ClientInterceptor;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;

/**
 * Who asked, as the gateway tells the services behind it ({@code x-sonia-principal} metadata), for their
 * decisions and audit records. Until authentication lands it is asserted by the caller, not proven.
 */
public final class Principal {

    /** The header (and gRPC metadata key) that carries the principal. */
    public static final String HEADER = "x-sonia-principal";

    /** The principal of a request that names none. */
    public static final String ANONYMOUS = "anonymous";

    private static final Metadata.Key<String> KEY = Metadata.Key.of(HEADER, Metadata.ASCII_STRING_MARSHALLER);

    /** The principal of the request being served. */
    public static String current(ServiceRequestContext ctx) {
        return ctx.request().headers().get(HEADER, ANONYMOUS);
    }

    /** An interceptor that sends {@code principal} with every call of a stub. */
    public static ClientInterceptor sending(String principal) {
        final Metadata headers = new Metadata();
        headers.put(KEY, principal);
        return MetadataUtils.newAttachHeadersInterceptor(headers);
    }

    private Principal() {}
}

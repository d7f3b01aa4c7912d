package ai.sonia.gateway.console;

import java.nio.file.Path;

import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.RequestHeadersBuilder;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;

import ai.sonia.runtime.Correlation;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.tls.TlsMaterial;
import ai.sonia.runtime.tls.TlsSettings;

/**
 * A downstream service's own REST routes, reached through the gateway's origin: the request goes on as it came
 * (method, path, query, body, the caller's {@code Authorization}, the correlation id) and the service's answer (its
 * envelope) comes back as it is. So a page served by the gateway (the console) calls EVA-OS's approvals and
 * Memory's search and forget under the same origin and credential, with nothing added to their contracts: the
 * service authenticates and authorizes the caller itself.
 */
public final class DownstreamRest implements HttpService, AutoCloseable {

    private final WebClient client;
    private final ClientFactory factory;

    public DownstreamRest(StackConfig config, ServiceSpec spec) {
        final TlsSettings tls = TlsSettings.from(config);
        if (tls.serves(spec)) {
            final TlsMaterial own = tls.mutual() || tls.ca() == null ? tls.material() : null;
            final Path trust = tls.ca() != null ? tls.ca() : own.trust();
            factory = ClientFactory.builder().tlsCustomizer(b -> {
                if (trust != null) {
                    b.trustManager(trust.toFile());
                }
                if (own != null && tls.mutual()) {
                    b.keyManager(own.certChain().toFile(), own.key().toFile());
                }
            }).build();
            client = WebClient.builder("https://" + config.target(spec)).factory(factory).build();
        } else {
            factory = ClientFactory.builder().build();
            client = WebClient.builder("http://" + config.target(spec)).factory(factory).build();
        }
    }

    @Override
    public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
        final RequestHeaders in = req.headers();
        final RequestHeadersBuilder out = RequestHeaders.builder(in.method(), in.path());
        for (var name : new io.netty.util.AsciiString[] {
                HttpHeaderNames.AUTHORIZATION, HttpHeaderNames.CONTENT_TYPE, HttpHeaderNames.ACCEPT}) {
            final String value = in.get(name);
            if (value != null) {
                out.set(name, value);
            }
        }
        out.set(Correlation.HEADER, Correlation.of(ctx)); // one id across the gateway and the service
        return client.execute(req.withHeaders(out.build()));
    }

    @Override
    public void close() {
        factory.close();
    }
}

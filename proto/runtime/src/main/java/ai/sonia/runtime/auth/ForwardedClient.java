package ai.sonia.runtime.auth;

import com.google.common.net.InetAddresses;

import com.linecorp.armeria.common.HttpHeadersBuilder;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.server.ServiceRequestContext;

import ai.sonia.runtime.StackConfig;

/**
 * The address of the client behind a Sonia service that forwards the client's connection (the gateway's bridge
 * to Pipecat's {@code /ws/{session_id}}), so that a limit per client address counts the client, not the
 * forwarder. The forwarder sends {@value #ADDRESS} with the client's address and {@value #PROOF} with a service
 * credential of its own (signed with the service key, valid a minute; the client's own {@code Authorization}
 * goes on unchanged). The receiver believes the address only when that credential is valid and names the
 * forwarder it trusts: a client that sends these headers itself gets its own address, as without them.
 */
public final class ForwardedClient {

    /** The client's address, as the forwarder saw it. */
    public static final String ADDRESS = "x-forwarded-for";
    /** A service credential of the forwarder, proving it set {@value #ADDRESS}. */
    public static final String PROOF = "x-sonia-forwarder";

    private final ServiceCredentials credentials;

    public ForwardedClient(ServiceCredentials credentials) {
        this.credentials = credentials;
    }

    /** With the service key of the stack {@code config} names. */
    public static ForwardedClient of(StackConfig config) {
        return new ForwardedClient(ServiceCredentials.of(config));
    }

    /** Adds the headers of {@code service} forwarding the client of {@code ctx}. */
    public void forward(HttpHeadersBuilder headers, String service, ServiceRequestContext ctx) {
        headers.set(ADDRESS, ctx.clientAddress().getHostAddress())
               .set(PROOF, credentials.issue(service, Principal.service(service)));
    }

    /**
     * The client's address: the one {@code forwarder} vouches for when the request carries its valid proof and
     * an IP address, else the address the connection came from.
     */
    public String clientAddress(ServiceRequestContext ctx, String forwarder) {
        final String own = ctx.remoteAddress().getAddress().getHostAddress();
        final RequestHeaders headers = ctx.request().headers();
        final String proof = headers.get(PROOF);
        final String address = headers.get(ADDRESS);
        if (proof == null || address == null || !InetAddresses.isInetAddress(address.strip())) {
            return own;
        }
        try {
            final Principal by = credentials.verify(proof);
            return by.isService() && by.subject().equals(forwarder)
                   ? InetAddresses.forString(address.strip()).getHostAddress() : own;
        } catch (AuthenticationException e) {
            return own;
        }
    }
}

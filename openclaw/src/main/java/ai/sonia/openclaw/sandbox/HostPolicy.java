package ai.sonia.openclaw.sandbox;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

import ai.sonia.openclaw.catalog.InvalidArgumentsException;

/**
 * Which URLs {@code http.fetch} may reach. The host, as written, must be on the allow list (so IP
 * literal tricks such as {@code 0x7f.1}, {@code 2130706433} or {@code [::ffff:127.0.0.1]} never match
 * a name); it is then resolved once, and every address must be acceptable: loopback only for the
 * loopback names, public unicast for anything else. The caller connects to the checked address, so a
 * DNS answer that changes between check and connect (rebinding) cannot redirect it.
 */
public final class HostPolicy {

    /** Loopback names allowed by default. */
    public static final List<String> DEFAULT_HOSTS = List.of("localhost", "127.0.0.1", "::1");

    private static final Set<String> LOOPBACK_NAMES = Set.of("localhost", "127.0.0.1", "::1");

    private final Set<String> allowedHosts;

    public HostPolicy(List<String> allowedHosts) {
        this.allowedHosts = allowedHosts.stream().map(HostPolicy::canonicalHost).collect(Collectors.toUnmodifiableSet());
    }

    /** A checked target: the URL and the one address to connect to. */
    public record Target(URI uri, String host, int port, boolean tls, InetAddress address) {}

    /** Checks {@code url} and resolves its host; throws {@link InvalidArgumentsException} naming {@code field}. */
    public Target check(String url, String field) {
        final URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new InvalidArgumentsException(field, "not a URL: " + e.getMessage());
        }
        final String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new InvalidArgumentsException(field, "only http and https URLs are allowed: " + url);
        }
        if (uri.getRawUserInfo() != null) {
            throw new InvalidArgumentsException(field, "URLs with user info are not allowed");
        }
        if (uri.getHost() == null) {
            throw new InvalidArgumentsException(field, "URL has no host: " + url);
        }
        final String host = canonicalHost(uri.getHost());
        if (!allowedHosts.contains(host)) {
            throw new InvalidArgumentsException(field, "host not allowed: " + uri.getHost());
        }
        final InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(host);
        } catch (UnknownHostException e) {
            throw new InvalidArgumentsException(field, "unknown host: " + uri.getHost());
        }
        final boolean loopbackName = LOOPBACK_NAMES.contains(host);
        for (InetAddress address : addresses) {
            if (loopbackName ? !address.isLoopbackAddress() : !isPublic(address)) {
                throw new InvalidArgumentsException(field, host + " resolves to a forbidden address: "
                                                           + address.getHostAddress());
            }
        }
        final int port = uri.getPort() > 0 ? uri.getPort() : scheme.equals("https") ? 443 : 80;
        return new Target(uri, host, port, scheme.equals("https"), addresses[0]);
    }

    /** Lower case, no trailing dot, no IPv6 brackets. */
    static String canonicalHost(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        while (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        return h;
    }

    private static boolean isPublic(InetAddress address) {
        final byte[] b = address.getAddress();
        final boolean mappedV4 = b.length == 16 && Arrays.equals(Arrays.copyOf(b, 12),
                new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff});
        final boolean uniqueLocalV6 = b.length == 16 && (b[0] & 0xfe) == 0xfc;
        final boolean carrierNat = b.length == 4 && (b[0] & 0xff) == 100 && (b[1] & 0xc0) == 64;
        final boolean zeroNet = b.length == 4 && b[0] == 0;
        return !(address.isLoopbackAddress() || address.isAnyLocalAddress() || address.isLinkLocalAddress()
                 || address.isSiteLocalAddress() || address.isMulticastAddress() || mappedV4 || uniqueLocalV6
                 || carrierNat || zeroNet);
    }
}

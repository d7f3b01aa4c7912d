package ai.sonia.openclaw.sandbox;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

import ai.sonia.runtime.errors.DomainException;


/**
 * Which URLs {@code http.fetch} may reach. The host is resolved once and every address it resolves to
 * must be acceptable; the caller then connects to that checked address (never resolving again), so a
 * DNS answer that changes between check and connect (rebinding) cannot redirect it, and every redirect
 * is checked the same way. Public unicast addresses are allowed (unless {@code allowPublic} is off);
 * loopback, link-local, private, CGNAT, unique-local, multicast, reserved, and IPv6 forms that embed
 * such an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) are refused unless an operator lists the
 * host as written ({@code "nas.lan"}, {@code "127.0.0.1"}) in {@code allowedHosts}; Sonia's own ports on
 * this machine are refused unless listed with the port ({@code "127.0.0.1:7020"}). IP literal tricks
 * ({@code 0x7f.1}, {@code 2130706433}) never match a listed name, and resolve to refused addresses.
 */
public final class HostPolicy {

    /** No host reaches a non-public address by default. */
    public static final List<String> DEFAULT_HOSTS = List.of();

    private final Set<String> allowedHosts;
    private final boolean allowPublic;
    private final Set<Integer> soniaPorts;

    /** Only the listed hosts, no public internet, no port protection (tests of the fetcher alone). */
    public HostPolicy(List<String> allowedHosts) {
        this(allowedHosts, false, Set.of());
    }

    public HostPolicy(List<String> allowedHosts, boolean allowPublic, Set<Integer> soniaPorts) {
        this.allowedHosts = allowedHosts.stream().map(HostPolicy::canonicalHost)
                                        .collect(Collectors.toUnmodifiableSet());
        this.allowPublic = allowPublic;
        this.soniaPorts = Set.copyOf(soniaPorts);
    }

    /** A checked target: the URL and the one address to connect to. */
    public record Target(URI uri, String host, int port, boolean tls, InetAddress address) {}

    /** Checks {@code url} and resolves its host; throws {@link DomainException} naming {@code field}. */
    public Target check(String url, String field) {
        final URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw DomainException.invalidArgument(field, "not a URL: " + e.getMessage());
        }
        final String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw DomainException.invalidArgument(field, "only http and https URLs are allowed: " + url);
        }
        if (uri.getRawUserInfo() != null) {
            throw DomainException.invalidArgument(field, "URLs with user info are not allowed");
        }
        if (uri.getHost() == null) {
            throw DomainException.invalidArgument(field, "URL has no host: " + url);
        }
        final String host = canonicalHost(uri.getHost());
        final int port = uri.getPort() > 0 ? uri.getPort() : scheme.equals("https") ? 443 : 80;
        final boolean listed = allowedHosts.contains(host) || allowedHosts.contains(host + ':' + port);
        final boolean listedWithPort = allowedHosts.contains(host + ':' + port);
        final InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(host);
        } catch (UnknownHostException e) {
            throw DomainException.invalidArgument(field, "unknown host: " + uri.getHost());
        }
        for (InetAddress address : addresses) {
            final boolean open = isPublic(address);
            if (!open && !listed) {
                throw DomainException.invalidArgument(field, host + " resolves to a forbidden (loopback, private or"
                                                           + " link-local) address: " + address.getHostAddress()
                                                           + "; an operator may allow it in"
                                                           + " services.openclaw.http.allowedHosts");
            }
            if (open && !allowPublic && !listed) {
                throw DomainException.invalidArgument(field, "host not allowed: " + uri.getHost());
            }
            if (!open && soniaPorts.contains(port) && !listedWithPort && isThisMachine(address)) {
                throw DomainException.invalidArgument(field, "port " + port + " is one of Sonia's own services;"
                                                           + " an operator may allow it as " + host + ':' + port);
            }
        }
        return new Target(uri, host, port, scheme.equals("https"), addresses[0]);
    }

    /** Lower case, no trailing dot, no IPv6 brackets. */
    static String canonicalHost(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        if (h.startsWith("[") && h.contains("]")) {
            h = h.substring(1, h.indexOf(']')) + h.substring(h.indexOf(']') + 1);
        }
        while (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        return h;
    }

    private static boolean isThisMachine(InetAddress address) {
        if (address.isLoopbackAddress() || address.isAnyLocalAddress()) {
            return true;
        }
        try {
            return NetworkInterface.getByInetAddress(address) != null;
        } catch (SocketException e) {
            return true;
        }
    }

    /** True for a public unicast address: nothing of this machine, its networks or reserved ranges. */
    static boolean isPublic(InetAddress address) {
        final byte[] b = address.getAddress();
        if (b.length == 4) {
            return isPublicV4(b);
        }
        final boolean zeroPrefix96 = Arrays.equals(Arrays.copyOf(b, 12), new byte[12]);
        final boolean mapped = Arrays.equals(Arrays.copyOf(b, 12),
                                             new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff});
        final boolean nat64 = Arrays.equals(Arrays.copyOf(b, 12),
                                            new byte[] {0, 0x64, (byte) 0xff, (byte) 0x9b, 0, 0, 0, 0, 0, 0, 0, 0});
        if (zeroPrefix96 || mapped) {
            return false; // ::, ::1, IPv4-compatible and IPv4-mapped: never a public destination to dial
        }
        if (nat64) {
            return isPublicV4(Arrays.copyOfRange(b, 12, 16));
        }
        final int first = b[0] & 0xff;
        final int second = b[1] & 0xff;
        if (first == 0x20 && second == 0x02) {
            return isPublicV4(Arrays.copyOfRange(b, 2, 6)); // 6to4 embeds an IPv4 address
        }
        final boolean teredo = first == 0x20 && second == 0x01 && b[2] == 0 && b[3] == 0;
        final boolean documentation = first == 0x20 && second == 0x01 && (b[2] & 0xff) == 0x0d && (b[3] & 0xff) == 0xb8;
        final boolean discard = first == 0x01 && second == 0 && Arrays.equals(Arrays.copyOfRange(b, 2, 8), new byte[6]);
        final boolean uniqueLocal = (first & 0xfe) == 0xfc;
        final boolean linkOrSiteLocal = first == 0xfe && (second & 0x80) == 0x80;
        return !(first == 0xff || teredo || documentation || discard || uniqueLocal || linkOrSiteLocal
                 || address.isLoopbackAddress() || address.isAnyLocalAddress());
    }

    private static boolean isPublicV4(byte[] b) {
        final int a0 = b[0] & 0xff;
        final int a1 = b[1] & 0xff;
        final int a2 = b[2] & 0xff;
        return !(a0 == 0 || a0 == 10 || a0 == 127 || a0 >= 224
                 || (a0 == 100 && (a1 & 0xc0) == 64)
                 || (a0 == 169 && a1 == 254)
                 || (a0 == 172 && (a1 & 0xf0) == 16)
                 || (a0 == 192 && a1 == 168)
                 || (a0 == 192 && a1 == 0 && (a2 == 0 || a2 == 2))
                 || (a0 == 198 && (a1 & 0xfe) == 18)
                 || (a0 == 198 && a1 == 51 && a2 == 100)
                 || (a0 == 203 && a1 == 0 && a2 == 113));
    }
}

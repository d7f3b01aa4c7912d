package ai.sonia.openclaw.sandbox;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * One workspace per tenant, none inside another, so the file tools and the jail of one tenant never reach
 * another tenant's files. Tenant "default" keeps the configured workspace (the one the stack had before
 * tenants, so its files stay where they were); every other tenant gets {@code <tenantsRoot>/<tenant>},
 * created on first use.
 */
public final class Workspaces {

    public static final String DEFAULT_TENANT = "default";
    private static final Pattern PLAIN_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    private final Workspace defaultWorkspace;
    private final Path tenantsRoot;
    private final Map<String, Workspace> byTenant = new ConcurrentHashMap<>();

    public Workspaces(Path defaultRoot, Path tenantsRoot) {
        defaultWorkspace = new Workspace(defaultRoot);
        this.tenantsRoot = new Workspace(tenantsRoot).root();
        final Path own = defaultWorkspace.root();
        if (own.startsWith(this.tenantsRoot) || this.tenantsRoot.startsWith(own)) {
            throw new IllegalArgumentException("the default workspace " + own + " and the tenants' workspaces "
                                               + this.tenantsRoot + " must not contain one another");
        }
    }

    /** The workspace of {@code tenant}. */
    public Workspace forTenant(String tenant) {
        if (tenant.isEmpty()) {
            throw new IllegalArgumentException("a workspace belongs to a tenant");
        }
        if (tenant.equals(DEFAULT_TENANT)) {
            return defaultWorkspace;
        }
        return byTenant.computeIfAbsent(tenant, t -> new Workspace(tenantsRoot.resolve(directoryName(t))));
    }

    /** The workspace of tenant "default". */
    public Workspace defaultWorkspace() {
        return defaultWorkspace;
    }

    /**
     * A directory name that is the tenant's own and nobody else's: a plain name as it is; anything else
     * ("..", slashes, unicode) as {@code %} and the hex of its UTF-8, which no plain name can spell.
     */
    static String directoryName(String tenant) {
        return PLAIN_NAME.matcher(tenant).matches() && !tenant.contains("..")
               ? tenant : '%' + HexFormat.of().formatHex(tenant.getBytes(StandardCharsets.UTF_8));
    }
}

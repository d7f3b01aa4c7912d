package ai.sonia.gateway;

/**
 * Who is calling: the tenant and user whose memories, sessions and ledger a request touches. Until
 * authentication lands every request is the local user of the default tenant; the tenant never comes
 * from a request body.
 */
public record Caller(String tenant, String user) {

    /** The single local user of a machine without authentication. */
    public static final Caller LOCAL = new Caller("default", "local");

    /** The principal name written to ledgers and audit logs. */
    public String principal() {
        return tenant + '/' + user;
    }
}

package ai.sonia.gateway.store;

import java.util.ArrayList;
import java.util.List;

/** The one query of a page of live API keys, newest first, on either engine ({@link ai.sonia.gateway.domain.AccountStore#keys}). */
record KeysPage(String sql, Object[] args) {

    static KeysPage of(String tenant, String owner, long afterCreateMs, String afterId, int limit) {
        final String after = afterId.isEmpty() ? "" : " AND (create_ms < ? OR create_ms = ? AND id > ?)";
        final String sql = "SELECT * FROM api_keys WHERE tenant = ? AND revoked_ms = 0"
                           + (owner == null ? "" : " AND owner = ?") + after + " ORDER BY create_ms DESC, id LIMIT ?";
        final List<Object> args = new ArrayList<>(List.of(tenant));
        if (owner != null) {
            args.add(owner);
        }
        if (!afterId.isEmpty()) {
            args.addAll(List.of(afterCreateMs, afterCreateMs, afterId));
        }
        args.add(limit);
        return new KeysPage(sql, args.toArray());
    }
}

package ai.sonia.memory.domain;

import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Which memories a search or list may see. The tenant is always set, so no query built from a filter can
 * cross tenants. A user (or session) narrows to that user's (or session's) memories plus the broader ones
 * of the tenant (or user), which apply to everybody inside it.
 */
public record MemoryFilter(String tenant, String user, String session, List<Integer> kinds,
                           SortedMap<String, String> metadata, boolean includeInactive, long nowMs) {

    public MemoryFilter {
        kinds = List.copyOf(kinds);
        metadata = new TreeMap<>(metadata);
    }

    /** Tenant-wide, active memories only. */
    public static MemoryFilter tenant(String tenant, long nowMs) {
        return new MemoryFilter(tenant, "", "", List.of(), new TreeMap<>(), false, nowMs);
    }
}

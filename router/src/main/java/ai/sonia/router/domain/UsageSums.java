package ai.sonia.router.domain;

import java.util.List;

import javax.annotation.Nullable;

/**
 * Usage grouped by tenant, deployment and day (one page of the groups, in {@link Key} order), with the total
 * of every group in range computed by the store on its own.
 */
public record UsageSums(List<Row> rows, Row total) {

    /** One group's sums; for the total, tenant, model and day are empty. */
    public record Row(String tenant, String model, String day, long requests, long promptTokens,
                      long completionTokens, long costMicros) {

        /** Where this group sits in the listing's order. */
        public Key key() {
            return new Key(day, tenant, model);
        }
    }

    /** The order of the groups: by day, then tenant, then deployment. */
    public record Key(String day, String tenant, String model) {

        /** The key as page-token parts. */
        public List<String> parts() {
            return List.of(day, tenant, model);
        }

        /** The key of page-token parts, or null when they are not three. */
        @Nullable
        public static Key of(List<String> parts) {
            return parts.size() == 3 ? new Key(parts.get(0), parts.get(1), parts.get(2)) : null;
        }
    }

    public UsageSums {
        rows = List.copyOf(rows);
    }
}

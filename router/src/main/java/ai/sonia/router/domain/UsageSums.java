package ai.sonia.router.domain;

import java.util.List;

/** Usage grouped by tenant, deployment and day, with the total computed by the store on its own. */
public record UsageSums(List<Row> rows, Row total) {

    /** One group's sums; for the total, tenant, model and day are empty. */
    public record Row(String tenant, String model, String day, long requests, long promptTokens,
                      long completionTokens, long costMicros) {}

    public UsageSums {
        rows = List.copyOf(rows);
    }
}

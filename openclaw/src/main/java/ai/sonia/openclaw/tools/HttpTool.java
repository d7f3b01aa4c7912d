package ai.sonia.openclaw.tools;

import java.util.LinkedHashMap;
import java.util.Map;

import ai.sonia.openclaw.sandbox.HttpFetcher;
import ai.sonia.openclaw.v1.HttpFetchArguments;

/** {@code http.fetch} through the {@link HttpFetcher}. */
final class HttpTool {

    private final HttpFetcher fetcher;

    HttpTool(HttpFetcher fetcher) {
        this.fetcher = fetcher;
    }

    /**
     * Fetches; a target that cannot be reached or does not answer in time is the tool's result ({@code error},
     * {@code timed_out}), not a failure of OpenClaw: the gateway's breaker must not count a slow web site.
     */
    ToolOutcome fetch(HttpFetchArguments args, ToolCall call) {
        final HttpFetcher.Fetched fetched;
        try {
            fetched = fetcher.fetch(args.getUrl(), args.getMethod(), args.getHeadersMap(), args.getBody());
        } catch (HttpFetcher.FetchFailedException e) {
            final Map<String, Object> out = new LinkedHashMap<>();
            out.put("url", args.getUrl());
            out.put("status", 0);
            out.put("error", e.getMessage());
            out.put("timed_out", e.timedOut());
            return ToolOutcome.of(Outputs.struct(out));
        }
        final Map<String, Object> out = new LinkedHashMap<>();
        out.put("url", fetched.finalUrl());
        out.put("status", fetched.status());
        out.put("headers", fetched.headers());
        out.put("body", fetched.body());
        out.put("truncated", fetched.truncated());
        out.put("redirects", fetched.redirects());
        return ToolOutcome.of(Outputs.struct(out));
    }
}

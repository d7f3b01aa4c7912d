package ai.sonia.openclaw.tools;

import java.util.LinkedHashMap;
import java.util.Map;

import ai.sonia.openclaw.sandbox.HttpFetcher;
import ai.sonia.openclaw.v1.HttpFetchArgs;

/** {@code http.fetch} through the {@link HttpFetcher}. */
final class HttpTool {

    private final HttpFetcher fetcher;

    HttpTool(HttpFetcher fetcher) {
        this.fetcher = fetcher;
    }

    ToolOutcome fetch(HttpFetchArgs args, ToolCall call) {
        final HttpFetcher.Fetched fetched = fetcher.fetch(args.getUrl(), args.getMethod(), args.getHeadersMap(),
                                                          args.getBody());
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

package ai.sonia.router;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpResponseWriter;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.server.Server;
import com.linecorp.armeria.server.ServiceRequestContext;

/**
 * A loopback server that speaks a provider's real HTTP API: Ollama ({@code /api/chat} plain and NDJSON,
 * {@code /api/tags}, {@code /api/embed}), Anthropic ({@code /v1/messages} plain and SSE) or OpenAI
 * ({@code /v1/chat/completions} plain and SSE). Each request takes the next scripted behaviour, or the
 * default reply when none is queued.
 */
final class FakeProvider implements AutoCloseable {

    enum Dialect { OLLAMA, ANTHROPIC, OPENAI }

    /** What the server does with one request. */
    sealed interface Behavior {}

    record Reply(String text) implements Behavior {}

    record Fail(int status, String body, Map<String, String> headers) implements Behavior {}

    record Slow(Duration delay, String text) implements Behavior {}

    /** Streams {@code tokens} words, then cuts the connection. */
    record BreakAfter(int tokens, String text) implements Behavior {}

    record CallTool(String id, String name, String argumentsJson) implements Behavior {}

    /** Streams {@code tokens} words, one each {@code every}, until done or until the client goes away. */
    record Trickle(int tokens, Duration every) implements Behavior {}

    static final long PROMPT_TOKENS = 11;
    private static final ObjectMapper mapper = new ObjectMapper();

    private final Dialect dialect;
    private final Server server;
    private final Queue<Behavior> script = new ConcurrentLinkedQueue<>();
    private final List<JsonNode> requests = new CopyOnWriteArrayList<>();
    private volatile String defaultText;
    private volatile List<String> tags = List.of("llama3.2:latest");
    private volatile long promptTokens = PROMPT_TOKENS;
    private final java.util.concurrent.CompletableFuture<Integer> trickleAbandoned =
            new java.util.concurrent.CompletableFuture<>();

    FakeProvider(Dialect dialect, String defaultText) {
        this.dialect = dialect;
        this.defaultText = defaultText;
        server = ai.sonia.runtime.SoniaServer.stopAtOnce(Server.builder())
                       .http(0)
                       .requestTimeout(Duration.ofSeconds(30))
                       .service("/api/tags", (ctx, req) -> HttpResponse.ofJson(tagsJson()))
                       .service("/api/embed", (ctx, req) -> HttpResponse.of(req.aggregate().thenApply(
                               agg -> HttpResponse.ofJson(embeddings(read(agg.contentUtf8()))))))
                       .service("/api/chat", (ctx, req) -> chat(ctx, req))
                       .service("/v1/messages", (ctx, req) -> chat(ctx, req))
                       .service("/v1/chat/completions", (ctx, req) -> chat(ctx, req))
                       .build();
        server.start().join();
    }

    /** The base URL a deployment of this dialect is configured with. */
    String baseUrl() {
        final String root = "http://127.0.0.1:" + server.activeLocalPort();
        return dialect == Dialect.OLLAMA ? root : root + "/v1";
    }

    FakeProvider then(Behavior behavior) {
        script.add(behavior);
        return this;
    }

    void defaultText(String text) {
        defaultText = text;
    }

    /** The prompt tokens every answer reports from now on. */
    void promptTokens(long tokens) {
        promptTokens = tokens;
    }

    void tags(List<String> names) {
        tags = List.copyOf(names);
    }

    /** The chat request bodies received, in order. */
    List<JsonNode> requests() {
        return List.copyOf(requests);
    }

    int requestCount() {
        return requests.size();
    }

    /** Completes, with the tokens written until then, when a client abandons a {@link Trickle} stream. */
    java.util.concurrent.CompletableFuture<Integer> trickleAbandoned() {
        return trickleAbandoned;
    }

    private HttpResponse chat(ServiceRequestContext ctx, com.linecorp.armeria.common.HttpRequest req) {
        return HttpResponse.of(req.aggregate().thenApply(agg -> {
            final JsonNode body = read(agg.contentUtf8());
            requests.add(body);
            final Behavior behavior = script.isEmpty() ? new Reply(defaultText) : script.poll();
            final boolean stream = body.path("stream").asBoolean(false);
            if (behavior instanceof Fail fail) {
                final com.linecorp.armeria.common.ResponseHeadersBuilder headers = ResponseHeaders.builder(HttpStatus.valueOf(fail.status()))
                                                                       .contentType(MediaType.JSON_UTF_8);
                fail.headers().forEach(headers::add);
                return HttpResponse.of(headers.build(), HttpData.ofUtf8(fail.body()));
            }
            if (behavior instanceof Slow slow) {
                return HttpResponse.delayed(respond(ctx, stream, slow.text(), null, -1), slow.delay());
            }
            if (behavior instanceof BreakAfter cut) {
                return respond(ctx, stream, cut.text(), null, cut.tokens());
            }
            if (behavior instanceof CallTool tool) {
                return respond(ctx, stream, "", tool, -1);
            }
            if (behavior instanceof Trickle trickle) {
                return trickle(ctx, trickle);
            }
            return respond(ctx, stream, ((Reply) behavior).text(), null, -1);
        }));
    }

    private HttpResponse respond(ServiceRequestContext ctx, boolean stream, String text, CallTool tool, int cutAfter) {
        final List<String> tokens = tokens(text);
        if (!stream) {
            if (cutAfter >= 0) {
                final HttpResponseWriter res = HttpResponse.streaming();
                res.write(ResponseHeaders.of(HttpStatus.OK, "content-type", "application/json"));
                res.write(HttpData.ofUtf8("{\"model\":"));
                res.abort();
                return res;
            }
            return HttpResponse.ofJson(whole(text, tool, tokens.size()));
        }
        final HttpResponseWriter res = HttpResponse.streaming();
        res.write(ResponseHeaders.of(HttpStatus.OK, "content-type",
                                     dialect == Dialect.OLLAMA ? "application/x-ndjson" : "text/event-stream"));
        for (String event : startEvents()) {
            res.write(HttpData.ofUtf8(event));
        }
        for (int i = 0; i < tokens.size(); i++) {
            if (i == cutAfter) {
                // Let the first tokens reach the client, then cut the connection without ending the stream.
                ctx.eventLoop().schedule(() -> res.abort(), 200, java.util.concurrent.TimeUnit.MILLISECONDS);
                return res;
            }
            res.write(HttpData.ofUtf8(deltaEvent(tokens.get(i))));
        }
        if (tool != null) {
            res.write(HttpData.ofUtf8(toolEvent(tool)));
        }
        for (String event : endEvents(tokens.size(), tool != null)) {
            res.write(HttpData.ofUtf8(event));
        }
        res.close();
        return res;
    }

    private HttpResponse trickle(ServiceRequestContext ctx, Trickle trickle) {
        final HttpResponseWriter res = HttpResponse.streaming();
        res.write(ResponseHeaders.of(HttpStatus.OK, "content-type",
                                     dialect == Dialect.OLLAMA ? "application/x-ndjson" : "text/event-stream"));
        startEvents().forEach(e -> res.write(HttpData.ofUtf8(e)));
        final java.util.concurrent.atomic.AtomicInteger written = new java.util.concurrent.atomic.AtomicInteger();
        res.whenComplete().exceptionally(cause -> {
            trickleAbandoned.complete(written.get());
            return null;
        });
        final Runnable[] next = new Runnable[1];
        next[0] = () -> {
            if (!res.isOpen()) {
                return;
            }
            if (written.get() == trickle.tokens()) {
                endEvents(trickle.tokens(), false).forEach(e -> res.write(HttpData.ofUtf8(e)));
                res.close();
                return;
            }
            res.write(HttpData.ofUtf8(deltaEvent("t" + written.incrementAndGet() + ' ')));
            ctx.eventLoop().schedule(next[0], trickle.every().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        };
        next[0].run();
        return res;
    }

    private ObjectNode whole(String text, CallTool tool, int completionTokens) {
        final ObjectNode json = mapper.createObjectNode();
        switch (dialect) {
            case OLLAMA -> {
                json.put("model", "llama3.2").put("created_at", "2026-01-01T00:00:00Z");
                final ObjectNode message = json.putObject("message").put("role", "assistant").put("content", text);
                if (tool != null) {
                    message.putArray("tool_calls").addObject().putObject("function").put("name", tool.name())
                           .set("arguments", read(tool.argumentsJson()));
                }
                json.put("done", true).put("done_reason", "stop")
                    .put("prompt_eval_count", promptTokens).put("eval_count", completionTokens);
            }
            case ANTHROPIC -> {
                json.put("id", "msg_1").put("type", "message").put("role", "assistant").put("model", "claude-test");
                final ArrayNode content = json.putArray("content");
                if (!text.isEmpty()) {
                    content.addObject().put("type", "text").put("text", text);
                }
                if (tool != null) {
                    content.addObject().put("type", "tool_use").put("id", tool.id()).put("name", tool.name())
                           .set("input", read(tool.argumentsJson()));
                }
                json.put("stop_reason", tool != null ? "tool_use" : "end_turn");
                json.putObject("usage").put("input_tokens", promptTokens).put("output_tokens", completionTokens);
            }
            case OPENAI -> {
                json.put("id", "chatcmpl-1").put("object", "chat.completion").put("created", 1).put("model", "gpt-test");
                final ObjectNode choice = json.putArray("choices").addObject().put("index", 0);
                final ObjectNode message = choice.putObject("message").put("role", "assistant");
                if (tool != null) {
                    message.putNull("content");
                    message.putArray("tool_calls").addObject().put("id", tool.id()).put("type", "function")
                           .putObject("function").put("name", tool.name()).put("arguments", tool.argumentsJson());
                    choice.put("finish_reason", "tool_calls");
                } else {
                    message.put("content", text);
                    choice.put("finish_reason", "stop");
                }
                json.putObject("usage").put("prompt_tokens", promptTokens).put("completion_tokens", completionTokens)
                    .put("total_tokens", promptTokens + completionTokens);
            }
        }
        return json;
    }

    private List<String> startEvents() {
        if (dialect != Dialect.ANTHROPIC) {
            return List.of();
        }
        return List.of(sse("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\","
                                            + "\"role\":\"assistant\",\"model\":\"claude-test\",\"content\":[],"
                                            + "\"stop_reason\":null,\"usage\":{\"input_tokens\":" + promptTokens
                                            + ",\"output_tokens\":1}}}"),
                       sse("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
                                                  + "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"));
    }

    private String deltaEvent(String token) {
        final String quoted = mapper.valueToTree(token).toString();
        return switch (dialect) {
            case OLLAMA -> "{\"model\":\"llama3.2\",\"created_at\":\"2026-01-01T00:00:00Z\",\"message\":{\"role\":"
                           + "\"assistant\",\"content\":" + quoted + "},\"done\":false}\n";
            case ANTHROPIC -> sse("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
                                                         + "\"delta\":{\"type\":\"text_delta\",\"text\":" + quoted + "}}");
            case OPENAI -> sse(null, "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":"
                                     + "\"gpt-test\",\"choices\":[{\"index\":0,\"delta\":{\"content\":" + quoted
                                     + "},\"finish_reason\":null}]}");
        };
    }

    private String toolEvent(CallTool tool) {
        final String args = mapper.valueToTree(tool.argumentsJson()).toString();
        return switch (dialect) {
            case OLLAMA -> "{\"model\":\"llama3.2\",\"created_at\":\"2026-01-01T00:00:00Z\",\"message\":{\"role\":"
                           + "\"assistant\",\"content\":\"\",\"tool_calls\":[{\"function\":{\"name\":\"" + tool.name()
                           + "\",\"arguments\":" + tool.argumentsJson() + "}}]},\"done\":false}\n";
            case ANTHROPIC -> sse("content_block_start", "{\"type\":\"content_block_start\",\"index\":1,"
                                  + "\"content_block\":{\"type\":\"tool_use\",\"id\":\"" + tool.id() + "\",\"name\":\""
                                  + tool.name() + "\",\"input\":{}}}")
                              + sse("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":1,\"delta\":"
                                    + "{\"type\":\"input_json_delta\",\"partial_json\":" + args + "}}")
                              + sse("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":1}");
            case OPENAI -> sse(null, "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":"
                                     + "\"gpt-test\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
                                     + "\"id\":\"" + tool.id() + "\",\"type\":\"function\",\"function\":{\"name\":\""
                                     + tool.name() + "\",\"arguments\":" + args + "}}]},\"finish_reason\":null}]}");
        };
    }

    private List<String> endEvents(int completionTokens, boolean tool) {
        return switch (dialect) {
            case OLLAMA -> List.of("{\"model\":\"llama3.2\",\"created_at\":\"2026-01-01T00:00:00Z\",\"message\":{\"role\":"
                                   + "\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\","
                                   + "\"prompt_eval_count\":" + promptTokens + ",\"eval_count\":" + completionTokens + "}\n");
            case ANTHROPIC -> List.of(sse("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}"),
                                      sse("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\""
                                                           + (tool ? "tool_use" : "end_turn") + "\",\"stop_sequence\":null},"
                                                           + "\"usage\":{\"output_tokens\":" + completionTokens + "}}"),
                                      sse("message_stop", "{\"type\":\"message_stop\"}"));
            case OPENAI -> List.of(sse(null, "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":"
                                             + "\"gpt-test\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\""
                                             + (tool ? "tool_calls" : "stop") + "\"}]}"),
                                   sse(null, "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":"
                                             + "\"gpt-test\",\"choices\":[],\"usage\":{\"prompt_tokens\":" + promptTokens
                                             + ",\"completion_tokens\":" + completionTokens + ",\"total_tokens\":"
                                             + (promptTokens + completionTokens) + "}}"),
                                   "data: [DONE]\n\n");
        };
    }

    private ObjectNode tagsJson() {
        final ObjectNode json = mapper.createObjectNode();
        final ArrayNode models = json.putArray("models");
        for (String name : tags) {
            models.addObject().put("name", name).put("model", name).put("modified_at", "2026-01-01T00:00:00Z")
                  .put("size", 1000).put("digest", "abc");
        }
        return json;
    }

    private static ObjectNode embeddings(JsonNode request) {
        final ObjectNode json = mapper.createObjectNode().put("model", request.path("model").asText());
        final ArrayNode vectors = json.putArray("embeddings");
        for (JsonNode input : request.path("input")) {
            final ArrayNode v = vectors.addArray();
            v.add(input.asText().length()).add(1.0).add(0.5);
        }
        return json;
    }

    static List<String> tokens(String text) {
        final List<String> tokens = new java.util.ArrayList<>();
        final java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\S+\\s*").matcher(text);
        while (m.find()) {
            tokens.add(m.group());
        }
        return tokens;
    }

    private static String sse(String event, String data) {
        return (event == null ? "" : "event: " + event + '\n') + "data: " + data + "\n\n";
    }

    private static JsonNode read(String json) {
        try {
            return mapper.readTree(json);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    @Override
    public void close() {
        // Not joined: Netty's boss group takes its 2 s quiet period to stop, and nothing waits on the port.
        server.stop();
    }
}

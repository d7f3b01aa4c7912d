package ai.sonia.launcher;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

import org.openqa.selenium.By;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The console's benchmark (scripts/bench-console): against the six real services on loopback and Debian's
 * headless Chromium, (1) the time from sending a chat to its first streamed token on screen, in the console, vs
 * the same request by a program reading the SSE stream (Java's HttpClient, as curl would); (2) the weight of the
 * first screen (every file the sign-in page loads, raw and gzip); (3) the approval round trip from one browser
 * to another: one console decides, the other's list loses the item. Writes a Markdown report.
 *
 * <p>Arguments: the report's path and the number of rounds.
 */
public final class ConsoleBench {

    private static final ObjectMapper mapper = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        final Path out = Path.of(args[0]);
        final int rounds = Integer.parseInt(args[1]);
        final StringBuilder md = new StringBuilder();
        try (InProcessStack stack = new InProcessStack("console-bench",
                                                       "{\"services\":{\"gateway\":{\"auth\":{\"bcryptCost\":4}}}}")) {
            final String base = "http://127.0.0.1:" + stack.port("gateway");
            final String password = Files.readString(stack.config().home().resolve("secrets/admin-password")).strip();
            final HttpClient http = HttpClient.newHttpClient();
            final String token = mapper.readTree(http.send(
                    HttpRequest.newBuilder(URI.create(base + "/api/auth/login")).header("content-type", "application/json")
                               .POST(HttpRequest.BodyPublishers.ofString(
                                       "{\"username\":\"admin\",\"password\":\"" + password + "\"}")).build(),
                    HttpResponse.BodyHandlers.ofString()).body()).at("/data/access_token").asText();
            final ChromeDriver first = browser();
            final ChromeDriver second = browser();
            try {
                md.append(pageWeight(base, http));
                signIn(first, base, password);
                signIn(second, base, password);
                md.append(firstToken(first, base, token, http, rounds));
                md.append(approvalRoundTrip(first, second, rounds));
            } finally {
                first.quit();
                second.quit();
            }
        }
        Files.writeString(out, md.toString());
    }

    private static String pageWeight(String base, HttpClient http) throws Exception {
        final StringBuilder md = new StringBuilder("## Page weight of the first screen\n\n| file | bytes | gzip |\n|---|---|---|\n");
        long raw = 0;
        long zipped = 0;
        for (String file : List.of("/", "/console/style.css", "/console/app.js", "/console/api.js")) {
            final byte[] body = http.send(HttpRequest.newBuilder(URI.create(base + file)).header("accept", "text/html").build(),
                                          HttpResponse.BodyHandlers.ofByteArray()).body();
            final ByteArrayOutputStream gz = new ByteArrayOutputStream();
            try (GZIPOutputStream zip = new GZIPOutputStream(gz)) {
                zip.write(body);
            }
            raw += body.length;
            zipped += gz.size();
            md.append("| `").append(file).append("` | ").append(body.length).append(" | ").append(gz.size()).append(" |\n");
        }
        md.append("| **total** | **").append(raw).append("** | **").append(zipped).append("** |\n\n");
        md.append(String.format(Locale.ROOT, "Goal: at most 200 KB compressed. Measured: %.1f KB raw, %.1f KB gzip "
                                             + "(the gateway serves them uncompressed; no framework, no build step).%n%n",
                                raw / 1024.0, zipped / 1024.0));
        return md.toString();
    }

    private static String firstToken(ChromeDriver driver, String base, String token, HttpClient http, int rounds)
            throws Exception {
        driver.findElement(By.cssSelector("#nav a[data-view='chat']")).click();
        final List<Double> screen = new ArrayList<>();
        final List<Double> program = new ArrayList<>();
        for (int i = 0; i < rounds + 2; i++) { // the first two warm up
            final String text = "What is the lighthouse keeper's cat called? (" + i + ")";
            final java.util.concurrent.Callable<Object> onScreen = () -> driver.executeAsyncScript(
                    "const [text, done] = arguments;"
                    + "const log = document.getElementById('chat-log');"
                    + "const before = log.querySelectorAll('.turn.assistant').length; let start;"
                    + "const seen = new MutationObserver(() => {"
                    + "  const replies = log.querySelectorAll('.turn.assistant .reply-text');"
                    + "  if (replies.length > before && replies[replies.length - 1].textContent) {"
                    + "    seen.disconnect(); const t = performance.now() - start;"
                    + "    const wait = setInterval(() => { if (!document.getElementById('chat-send').disabled) {"
                    + "      clearInterval(wait); done(t); } }, 5); } });"
                    + "seen.observe(log, {subtree: true, childList: true, characterData: true});"
                    + "document.getElementById('chat-text').value = text; start = performance.now();"
                    + "document.getElementById('chat-form').requestSubmit();", text);
            final java.util.concurrent.Callable<Double> bySse = () -> {
            final long t0 = System.nanoTime();
            final HttpResponse<java.io.InputStream> response = http.send(
                    HttpRequest.newBuilder(URI.create(base + "/v1/chat:stream")).header("authorization", "Bearer " + token)
                               .header("content-type", "application/json").header("accept", "text/event-stream")
                               .POST(HttpRequest.BodyPublishers.ofString(mapper.writeValueAsString(Map.of("text", text))))
                               .build(), HttpResponse.BodyHandlers.ofInputStream());
            double firstChunk = -1;
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
                for (String line; (line = reader.readLine()) != null; ) {
                    if (firstChunk < 0 && line.startsWith("data:") && line.contains("\"chunk\"")) {
                        firstChunk = (System.nanoTime() - t0) / 1e6;
                    }
                }
            }
            return firstChunk;
            };
            // Who goes first alternates: the second of two identical questions may find warm caches.
            final Object ms;
            final double firstChunk;
            if (i % 2 == 0) {
                ms = onScreen.call();
                firstChunk = bySse.call();
            } else {
                firstChunk = bySse.call();
                ms = onScreen.call();
            }
            if (i >= 2) {
                screen.add(((Number) ms).doubleValue());
                program.add(firstChunk);
            }
        }
        return "## Time to the first streamed token\n\n"
               + "From sending `POST /v1/chat:stream` to its first token: on screen in the console (a MutationObserver "
               + "sees the text; timed in the page) vs read from the SSE stream by a program (Java's HttpClient with a "
               + "bearer token). The offline extractive provider answers; " + rounds + " rounds each, the same question, who goes first alternating.\n\n"
               + "| client | p50 ms | p95 ms |\n|---|---|---|\n"
               + row("console (on screen)", screen) + row("program (SSE)", program)
               + String.format(Locale.ROOT, "%nGoal: the console within +50 ms of the program. Measured: %+.1f ms at p50.%n%n",
                               pct(screen, 50) - pct(program, 50));
    }

    private static String approvalRoundTrip(ChromeDriver decider, ChromeDriver watcher, int rounds) {
        for (ChromeDriver driver : List.of(decider, watcher)) {
            driver.findElement(By.cssSelector("#nav a[data-view='approvals']")).click();
            new WebDriverWait(driver, Duration.ofSeconds(15))
                    .until(d -> d.findElement(By.id("approvals-state")).getText().contains("Live"));
        }
        final List<Double> trips = new ArrayList<>();
        for (int i = 0; i < rounds + 2; i++) {
            final Map<?, ?> asked = (Map<?, ?>) decider.executeAsyncScript(
                    "const [i, done] = arguments;"
                    + "const csrf = (document.cookie.match(/sonia_csrf=([^;]*)/) || [])[1] || '';"
                    + "fetch('/v1/action', {method: 'POST', headers: {'content-type': 'application/json', 'x-csrf-token': csrf},"
                    + " body: JSON.stringify({tool_name: 'shell.run', arguments: {argv: ['touch', 'bench-' + i + '.txt']}})})"
                    + ".then(r => r.json()).then(done);", i);
            final String id = (String) ((Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) asked.get("error")).get("details"))
                    .get("metadata")).get("approval_id");
            final By item = By.cssSelector("[data-approval='" + id + "']");
            new WebDriverWait(watcher, Duration.ofSeconds(15)).until(ExpectedConditions.visibilityOfElementLocated(item));
            new WebDriverWait(decider, Duration.ofSeconds(15)).until(ExpectedConditions.visibilityOfElementLocated(item));
            // The watcher notes (wall clock, shared by both browsers on this machine) when the item leaves its list.
            watcher.executeScript(
                    "const id = arguments[0]; window.benchGone = null;"
                    + "const seen = new MutationObserver(() => { if (!document.querySelector(`[data-approval='${id}']`)) {"
                    + " seen.disconnect(); window.benchGone = performance.timeOrigin + performance.now(); } });"
                    + "seen.observe(document.getElementById('approvals-list'), {childList: true, subtree: true});", id);
            final double clicked = ((Number) decider.executeScript(
                    "const t = performance.timeOrigin + performance.now();"
                    + "document.querySelector(`[data-approval='${arguments[0]}'] button`).click(); return t;", id))
                    .doubleValue();
            final double gone = ((Number) new WebDriverWait(watcher, Duration.ofSeconds(15))
                    .until(d -> watcher.executeScript("return window.benchGone"))).doubleValue();
            if (i >= 2) {
                trips.add(gone - clicked);
            }
        }
        return "## Approval round trip, browser to browser\n\n"
               + "One console clicks *Approve once*; the time until the approval leaves the other console's list "
               + "(EVA-OS's decision, its watch, the gateway's `/ws/approvals`, the page), " + rounds + " rounds.\n\n"
               + "| | p50 ms | p95 ms |\n|---|---|---|\n" + row("decide → gone elsewhere", trips)
               + String.format(Locale.ROOT, "%nGoal: p95 at most 200 ms on loopback. Measured: %.1f ms.%n",
                               pct(trips, 95));
    }

    private static void signIn(ChromeDriver driver, String base, String password) {
        driver.get(base + "/");
        new WebDriverWait(driver, Duration.ofSeconds(15)).until(ExpectedConditions.visibilityOfElementLocated(By.id("signin-username")))
                                                          .sendKeys("admin");
        driver.findElement(By.id("signin-password")).sendKeys(password);
        driver.findElement(By.cssSelector("#signin-form button[type=submit]")).click();
        new WebDriverWait(driver, Duration.ofSeconds(15)).until(d -> d.findElement(By.id("who")).getText().equals("admin"));
    }

    private static ChromeDriver browser() throws Exception {
        final ChromeOptions options = new ChromeOptions();
        options.setBinary("/usr/bin/chromium");
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                             "--window-size=1280,900", "--user-data-dir=" + Files.createTempDirectory("chromium-bench"));
        return new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(new java.io.File("/usr/bin/chromedriver"))
                                                                 .usingAnyFreePort().build(), options);
    }

    private static String row(String name, List<Double> values) {
        return String.format(Locale.ROOT, "| %s | %.1f | %.1f |%n", name, pct(values, 50), pct(values, 95));
    }

    private static double pct(List<Double> values, int p) {
        final List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }
}

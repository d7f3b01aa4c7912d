package ai.sonia.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web console end to end: a real headless Chromium (Debian's, through its chromedriver) against the six
 * real services on free ports. Sign-in with the session cookie, a streamed chat reply with its provenance, a
 * user created by the admin who then signs in, a HIGH action approved from another browser and run once, a
 * memory forgotten, training mode turned on and off; cookie flags and CSRF; an axe-core scan of every screen.
 * Screenshots go to {@code target/console-screenshots/} (the ones in docs/console/ come from here).
 *
 * <p>Chromium and chromedriver are installed by {@code scripts/sonia test} (as root); without them this test
 * fails with the install line, unless {@code SONIA_TESTS_WITHOUT_BROWSER=1} says to skip it on this machine.
 * axe-core comes from npm: {@code npm ci --prefix scripts/launcher/src/test/console}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleBrowserIT {

    static final String SKIP_VARIABLE = "SONIA_TESTS_WITHOUT_BROWSER";
    static final Path AXE = Path.of("src/test/console/node_modules/axe-core/axe.min.js");
    static final Path SHOTS = Path.of("target/console-screenshots");

    static InProcessStack stack;
    static String base;
    static String adminPassword;
    static ChromeDriver admin;
    static ChromeDriver other;
    static String axe;
    /** A spoken question (espeak-ng) with silence after it, the admin browser's microphone; null without espeak-ng. */
    static Path speech;

    @BeforeAll
    static void start() throws Exception {
        final String chromium = which("chromium");
        final String driver = which("chromedriver");
        final boolean present = chromium != null && driver != null && Files.isRegularFile(AXE);
        if (!present) {
            final String why = "the console's browser tests need Debian's chromium and chromium-driver "
                               + "(apt-get install chromium chromium-driver) and axe-core "
                               + "(npm ci --prefix scripts/launcher/src/test/console)";
            if ("1".equals(System.getenv(SKIP_VARIABLE))) {
                System.out.println("ConsoleBrowserIT skipped: " + why + " (" + SKIP_VARIABLE + "=1)");
                Assumptions.abort(why);
            }
            throw new IllegalStateException(why + "; or set " + SKIP_VARIABLE + "=1 to skip them on this machine");
        }
        axe = Files.readString(AXE);
        Files.createDirectories(SHOTS);
        stack = new InProcessStack("console-browser", "{\"services\":{\"gateway\":{\"auth\":{\"bcryptCost\":4}}}}");
        base = "http://127.0.0.1:" + stack.port("gateway");
        adminPassword = Files.readString(stack.config().home().resolve("secrets/admin-password")).strip();
        speech = speechWav();
        admin = browser(chromium, driver, speech);
        other = browser(chromium, driver, null);
    }

    @AfterAll
    static void stop() {
        for (WebDriver driver : new WebDriver[] {admin, other}) {
            if (driver != null) {
                driver.quit();
            }
        }
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    @Order(10)
    void theAdminSignsInWithAStrictHttpOnlyCookieAndCsrfIsEnforced() throws Exception {
        admin.get(base + "/");
        visible(admin, "signin-username");
        scan(admin, "sign-in");
        shot(admin, "signin");
        signIn(admin, "admin", adminPassword);
        // The generated password holds the console on the password form until the admin chooses one.
        visible(admin, "view-account");
        assertThat(admin.findElement(By.id("notice")).getText()).contains("Choose your own");
        admin.findElement(By.cssSelector("#nav a[data-view='chat']")).click();
        assertThat(admin.findElement(By.id("view-account")).isDisplayed()).isTrue();
        assertThat(admin.findElement(By.id("view-chat")).isDisplayed()).isFalse();
        admin.findElement(By.id("current-password")).sendKeys(adminPassword);
        admin.findElement(By.id("new-password-1")).sendKeys("the admin's own password", Keys.ENTER);
        waitText(admin, "notice", "Password changed.");
        go(admin, "chat");

        final Cookie session = admin.manage().getCookieNamed("sonia_session");
        assertThat(session.isHttpOnly()).isTrue();
        assertThat(session.getSameSite()).isEqualTo("Strict");
        assertThat(session.getPath()).isEqualTo("/");
        assertThat(session.isSecure()).isFalse(); // plain HTTP on loopback; Secure under TLS
        assertThat((String) admin.executeScript("return document.cookie")).doesNotContain("sonia_session")
                                                                         .contains("sonia_csrf");
        // A state-changing call without the CSRF header is refused, with it accepted.
        assertThat(fetchStatus(admin, "PUT", "/api/users/me", "{\"display_name\":\"Admin\"}", false)).isEqualTo(403);
        assertThat(fetchStatus(admin, "PUT", "/api/users/me", "{\"display_name\":\"Admin\"}", true)).isEqualTo(200);
        // /docs opens in the same browser session.
        assertThat(fetchStatus(admin, "GET", "/docs/", null, false)).isEqualTo(200);
    }

    @Test
    @Order(20)
    void chatStreamsTheReplyAndShowsItsProvenance() throws Exception {
        go(admin, "chat");
        final WebElement text = visible(admin, "chat-text");
        text.sendKeys("Remember that the lighthouse keeper's cat is called Marmalade.");
        text.sendKeys(Keys.ENTER);
        final WebDriverWait wait = new WebDriverWait(admin, Duration.ofSeconds(30));
        wait.until(d -> !d.findElements(By.cssSelector("#provenance .facts")).isEmpty());
        final WebElement reply = admin.findElement(By.cssSelector("#chat-log .turn.assistant"));
        assertThat(reply.getAttribute("aria-busy")).isNull();
        assertThat(reply.findElement(By.className("reply-text")).getText()).isNotBlank();
        assertThat(Integer.parseInt(reply.getAttribute("data-chunks"))).isPositive(); // pieces arrived over SSE
        final String provenance = admin.findElement(By.id("provenance")).getText();
        assertThat(provenance).contains("Model", "Provider", "Tokens", "Cost", "Degraded", "Downstream calls");
        assertThat(admin.findElements(By.cssSelector("#provenance .timeline li"))).isNotEmpty();
        scan(admin, "chat");
        shot(admin, "chat");
        admin.manage().window().setSize(new Dimension(390, 844));
        assertThat((Boolean) admin.executeScript(
                "return document.documentElement.scrollWidth <= window.innerWidth")).as("no sideways scroll").isTrue();
        scan(admin, "chat at phone width");
        shot(admin, "chat-phone");
        admin.manage().window().setSize(new Dimension(1280, 900));
    }

    @Test
    @Order(30)
    void theAdminCreatesAUserWhoThenSignsIn() throws Exception {
        go(admin, "admin");
        new WebDriverWait(admin, Duration.ofSeconds(10))
                .until(d -> d.findElement(By.id("users-body")).getText().contains("admin"));
        visible(admin, "new-username").sendKeys("dora");
        admin.findElement(By.id("new-display")).sendKeys("Dora");
        admin.findElement(By.id("new-password")).sendKeys("dora-password-12");
        admin.findElement(By.cssSelector("#create-user-form button[type=submit]")).click();
        new WebDriverWait(admin, Duration.ofSeconds(10))
                .until(d -> d.findElement(By.id("users-body")).getText().contains("dora"));
        scan(admin, "admin");
        shot(admin, "admin");

        other.get(base + "/");
        // By keyboard alone: type, Tab to the next field, Enter submits.
        visible(other, "signin-username").sendKeys("dora", Keys.TAB);
        other.switchTo().activeElement().sendKeys("dora-password-12", Keys.ENTER);
        waitText(other, "who", "dora");
        assertThat(other.findElement(By.id("who")).getText()).isEqualTo("dora");
        assertThat(other.findElement(By.id("nav-admin")).isDisplayed()).isFalse();
    }

    @Test
    @Order(35)
    void theAdminChangesRolesManagesKeysAndSeesBudgetUsageAndDependencies() throws Exception {
        go(admin, "admin");
        // A user made an admin, then deleted (after confirming).
        visible(admin, "new-username").sendKeys("eve");
        admin.findElement(By.id("new-password")).sendKeys("eve-password-123");
        admin.findElement(By.cssSelector("#create-user-form button[type=submit]")).click();
        final By eve = By.cssSelector("#users-body tr[data-user='eve']");
        final WebElement row = new WebDriverWait(admin, Duration.ofSeconds(10))
                .until(ExpectedConditions.visibilityOfElementLocated(eve));
        new org.openqa.selenium.support.ui.Select(row.findElement(By.tagName("select"))).selectByValue("ROLE_ADMIN");
        waitText(admin, "notice", "eve is now Admin");
        assertThat(String.valueOf(fetch(admin, "GET", "/api/users?page_size=1000", null, false).get("body")))
                .containsPattern("role=ROLE_ADMIN[^}]*username=eve");
        row.findElement(By.xpath(".//button[normalize-space()='Delete']")).click();
        visible(admin, "confirm-dialog").findElement(By.id("confirm-yes")).click();
        new WebDriverWait(admin, Duration.ofSeconds(10)).until(ExpectedConditions.invisibilityOfElementLocated(eve));

        // An API key: its secret shown once, and it works; deleted, it no longer does.
        admin.findElement(By.cssSelector("[data-jump='admin-keys']")).click();
        visible(admin, "key-name").sendKeys("backup script", Keys.ENTER);
        final String secret = new WebDriverWait(admin, Duration.ofSeconds(10))
                .until(d -> {
                    final String value = d.findElement(By.id("key-secret")).getAttribute("value");
                    return value == null || value.isEmpty() ? null : value;
                });
        assertThat(secret).startsWith("sonia_sk_");
        assertThat(admin.switchTo().activeElement().getAttribute("id")).isEqualTo("key-secret");
        assertThat(withKey(secret)).isEqualTo(200);
        scan(admin, "admin: API keys");
        // The picture keeps no secret, even a test stack's: the box shows the key id and a mask.
        admin.executeScript("const box = document.getElementById('key-secret');"
                            + "box.value = box.value.slice(0, 26) + '… (masked in this screenshot)';");
        shot(admin, "admin-keys");
        admin.findElement(By.id("key-secret-done")).click();
        assertThat(admin.findElement(By.id("key-secret-box")).isDisplayed()).isFalse();
        final By key = By.xpath("//tbody[@id='keys-body']/tr[td[1][normalize-space()='backup script']]");
        new WebDriverWait(admin, Duration.ofSeconds(10)).until(ExpectedConditions.visibilityOfElementLocated(key))
                .findElement(By.tagName("button")).click();
        visible(admin, "confirm-dialog").findElement(By.id("confirm-yes")).click();
        new WebDriverWait(admin, Duration.ofSeconds(10)).until(ExpectedConditions.invisibilityOfElementLocated(key));
        assertThat(withKey(secret)).isEqualTo(401);

        // The budget, the ledger's chart with the forecast (the chat above was charged), the dependencies.
        admin.findElement(By.cssSelector("[data-jump='admin-usage']")).click();
        new WebDriverWait(admin, Duration.ofSeconds(10)).until(d -> !d.findElements(By.cssSelector("#usage-chart svg")).isEmpty());
        assertThat(admin.findElement(By.id("budget-facts")).getText()).contains("Tenant", "Period", "Tokens", "Remaining");
        assertThat(admin.findElements(By.cssSelector("#usage-chart rect.bar:not(.projected)"))).hasSize(14);
        assertThat(admin.findElements(By.cssSelector("#usage-chart rect.projected"))).hasSize(7);
        assertThat(admin.findElement(By.id("usage-body")).findElements(By.tagName("tr"))).isNotEmpty();
        assertThat(admin.findElement(By.id("usage-body")).getText()).doesNotContain("Nothing charged");
        scan(admin, "admin: budget and usage");
        shot(admin, "admin-usage");
        admin.findElement(By.cssSelector("[data-jump='admin-deps']")).click();
        new WebDriverWait(admin, Duration.ofSeconds(10))
                .until(d -> d.findElements(By.cssSelector("#deps-body tr[data-dep]")).size() == 5);
        assertThat(admin.findElement(By.id("deps-body")).getText()).contains("memory", "router", "CLOSED");
        assertThat(admin.findElements(By.cssSelector("#limits-list li.card"))).isNotEmpty();
        scan(admin, "admin: dependencies and limitations");
        shot(admin, "admin-deps");
        // A plain user sees no administration, and the router's usage is theirs only.
        assertThat(fetchStatus(other, "GET", "/v1/budget", null, false)).isEqualTo(200);
    }

    @Test
    @Order(37)
    void aSessionIsOpenedWithItsHistoryAndEventReplay() throws Exception {
        go(admin, "sessions");
        admin.findElement(By.id("session-new")).click();
        waitText(admin, "replay-state", "Live");
        final WebElement say = visible(admin, "session-text");
        say.sendKeys("What is the cat called?", Keys.ENTER);
        final WebDriverWait wait = new WebDriverWait(admin, Duration.ofSeconds(30));
        wait.until(d -> d.findElement(By.id("session-events")).getText().contains("TURN"));
        wait.until(d -> d.findElements(By.cssSelector("#session-history li.turn")).size() >= 2);
        final String id = admin.findElement(By.id("session-title")).getText().replace("Session ", "");
        // Opened again (a new socket from sequence 0): the kept events are replayed in order, nothing twice.
        admin.findElement(By.id("sessions-refresh")).click();
        // The list redraws when its refresh lands: click the row's button as it is then, not as it was found.
        new WebDriverWait(admin, Duration.ofSeconds(10)).ignoring(StaleElementReferenceException.class).until(d -> {
            final WebElement open = ExpectedConditions.elementToBeClickable(
                    By.cssSelector("#sessions-body tr[data-session='" + id + "'] button")).apply(d);
            if (open == null) {
                return false;
            }
            open.click();
            return true;
        });
        wait.until(d -> d.findElement(By.id("session-events")).getText().contains("TURN"));
        final List<String> sequences = admin.findElements(By.cssSelector("#session-events li")).stream()
                                            .map(li -> li.getAttribute("data-sequence")).filter(s -> !"0".equals(s)).toList();
        assertThat(sequences).startsWith("1", "2").doesNotHaveDuplicates();
        assertThat(admin.findElement(By.id("session-history")).getText()).contains("What is the cat called?");
        scan(admin, "sessions");
        shot(admin, "sessions");
        // At phone width, the new screens fit without sideways scrolling too (their tables scroll inside).
        admin.manage().window().setSize(new Dimension(390, 844));
        for (String view : List.of("sessions", "admin", "memory", "approvals")) {
            go(admin, view);
            assertThat((Boolean) admin.executeScript("return document.documentElement.scrollWidth <= window.innerWidth"))
                    .as("no sideways scroll on %s at phone width; too wide: %s", view, admin.executeScript(
                            "return [...document.querySelectorAll('main *')].filter(e => e.offsetParent !== null"
                            + " && e.getBoundingClientRect().right > window.innerWidth + 1)"
                            + ".slice(-4).map(e => e.tagName + '#' + e.id + '.' + e.className).join(' ')"))
                    .isTrue();
        }
        scan(admin, "approvals at phone width");
        admin.manage().window().setSize(new Dimension(1280, 900));
    }

    @Test
    @Order(38)
    void aVoiceTurnFromTheMicrophoneIsAnsweredWithItsLatencyPerStage() throws Exception {
        Assumptions.assumeTrue(speech != null && which("pocketsphinx_continuous") != null,
                               "espeak-ng (the spoken question fed as the microphone) or pocketsphinx (Pipecat's "
                               + "recognizer) is not installed: apt-get install espeak-ng pocketsphinx pocketsphinx-en-us");
        go(admin, "sessions");
        admin.findElement(By.id("session-new-voice")).click();
        waitText(admin, "replay-state", "Live");
        visible(admin, "voice-talk").click();
        waitText(admin, "voice-state", "Listening");
        final WebDriverWait wait = new WebDriverWait(admin, Duration.ofSeconds(45));
        wait.until(d -> d.findElement(By.id("session-events")).getText().contains("METRICS"));
        final String events = admin.findElement(By.id("session-events")).getText();
        assertThat(events).contains("VAD_START", "VAD_STOP", "TRANSCRIPT", "TTS_AUDIO");
        assertThat(admin.findElement(By.id("voice-metrics")).getText()).contains("Recognition", "Synthesis", "Your wait");
        scan(admin, "sessions: voice");
        admin.executeScript("document.getElementById('voice').scrollIntoView({block: 'center'})");
        shot(admin, "voice");
        admin.findElement(By.id("voice-talk")).click();
        waitText(admin, "voice-state", "off");
    }

    @Test
    @Order(39)
    void bargeInStopsTheReplysPlayback() {
        // Hooks the page's sockets and audio sources before it loads, to deliver an INTERRUPTED mid-reply.
        admin.executeCdpCommand("Page.addScriptToEvaluateOnNewDocument", Map.of("source",
                "window.__sockets = []; const Native = window.WebSocket;"
                + "window.WebSocket = class extends Native { constructor(...a) { super(...a); window.__sockets.push(this); } };"
                + "window.__stopped = 0; const stop = AudioScheduledSourceNode.prototype.stop;"
                + "AudioBufferSourceNode.prototype.stop = function (...a) { window.__stopped++; return stop.apply(this, a); };"));
        admin.navigate().refresh();
        waitText(admin, "who", "admin");
        go(admin, "sessions");
        admin.findElement(By.id("session-new-voice")).click();
        waitText(admin, "replay-state", "Live");
        // Five seconds of the reply's audio as Pipecat sends it (a binary frame), then the user speaks over it.
        admin.executeScript("const socket = window.__sockets.filter(s => !s.url.includes('/ws/approvals')).at(-1);"
                            + "socket.onmessage({data: new Int16Array(16000 * 5).buffer});"
                            + "socket.onmessage({data: JSON.stringify({type: 'EVENT_TYPE_INTERRUPTED'})});");
        assertThat(((Number) admin.executeScript("return window.__stopped")).intValue()).isEqualTo(1);
        assertThat(admin.findElement(By.id("session-events")).getText()).contains("INTERRUPTED");
    }

    @Test
    @Order(45)
    void anActionIsApprovedForAPatternAndTheNextMatchingOneRunsWithoutAsking() throws Exception {
        go(admin, "approvals");
        final Map<?, ?> asked = fetch(other, "POST", "/v1/action",
                "{\"tool_name\":\"shell.run\",\"arguments\":{\"argv\":[\"touch\",\"a.txt\"]}}", true);
        final String approvalId = (String) ((Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) asked.get("body"))
                .get("error")).get("details")).get("metadata")).get("approval_id");
        final By item = By.cssSelector("[data-approval='" + approvalId + "']");
        new WebDriverWait(admin, Duration.ofSeconds(15)).until(ExpectedConditions.visibilityOfElementLocated(item))
                .findElement(By.xpath(".//button[normalize-space()='Approve for a pattern…']")).click();
        final WebElement glob = visible(admin, "pattern-glob");
        assertThat(glob.getAttribute("value")).isEqualTo("{\"argv\":[\"touch\",\"a.txt\"]}");
        glob.clear();
        glob.sendKeys("{\"argv\":[\"touch\",\"*.txt\"]}");
        scan(admin, "approvals: pattern dialog");
        admin.findElement(By.id("pattern-confirm")).click();
        new WebDriverWait(other, Duration.ofSeconds(15)).until(ExpectedConditions.invisibilityOfElementLocated(item));
        final Map<?, ?> ran = fetch(other, "POST", "/v1/action",
                "{\"tool_name\":\"shell.run\",\"arguments\":{\"argv\":[\"touch\",\"b.txt\"]}}", true);
        ToolsSandbox.ifMissingExpectRefusal((Long) ran.get("status"), String.valueOf(ran.get("body")));
        assertThat(ran.get("status")).as(String.valueOf(ran.get("body"))).isEqualTo(200L);
    }

    @Test
    @Order(47)
    void aMemoryIsBrowsedSupersededAndItsAuditTrailShown() throws Exception {
        go(admin, "memory");
        admin.findElement(By.cssSelector("#browse-form button[type=submit]")).click();
        final By marmalade = By.xpath("//ul[@id='memory-results']/li[contains(., 'Marmalade')]");
        final WebElement card = new WebDriverWait(admin, Duration.ofSeconds(15))
                .until(ExpectedConditions.visibilityOfElementLocated(marmalade));
        final String old = card.getAttribute("data-memory");
        card.findElement(By.xpath(".//button[normalize-space()='Supersede…']")).click();
        final WebElement text = visible(admin, "supersede-text");
        text.clear();
        text.sendKeys("The lighthouse keeper's cat is called Marmalade the Second.");
        scan(admin, "memory: supersede dialog");
        admin.findElement(By.id("supersede-confirm")).click();
        waitText(admin, "notice", "Superseded " + old);
        // Browsed with the inactive ones: the old version is there, superseded, with its audit trail.
        admin.findElement(By.id("browse-inactive")).click();
        admin.findElement(By.cssSelector("#browse-form button[type=submit]")).click();
        final By oldCard = By.cssSelector("[data-memory='" + old + "']");
        new WebDriverWait(admin, Duration.ofSeconds(10)).until(d -> d.findElement(oldCard).getText().contains("superseded by"));
        admin.findElement(oldCard).findElement(By.xpath(".//button[normalize-space()='Audit trail']")).click();
        waitText(admin, "audit-list", "supersede");
        assertThat(admin.findElement(By.id("audit-list")).getText()).contains("store");
        admin.findElement(By.id("browse-inactive")).click();
        scan(admin, "memory: browse and audit");
        shot(admin, "memory-audit");
    }

    @Test
    @Order(40)
    void aHighActionIsApprovedFromAnotherBrowserAndRunsOnce() throws Exception {
        go(other, "approvals");
        go(admin, "approvals");
        waitText(other, "approvals-state", "Live.");
        waitText(admin, "approvals-state", "Live.");
        final String touch = "{\"tool_name\":\"shell.run\",\"arguments\":{\"argv\":[\"touch\",\"console.txt\"]}}";
        final Map<?, ?> asked = fetch(other, "POST", "/v1/action", touch, true);
        assertThat(asked.get("status")).isEqualTo(403L);
        final Map<?, ?> error = (Map<?, ?>) ((Map<?, ?>) asked.get("body")).get("error");
        assertThat(error.get("code")).isEqualTo("APPROVAL_REQUIRED");
        final String approvalId = (String) ((Map<?, ?>) ((Map<?, ?>) error.get("details")).get("metadata")).get("approval_id");
        assertThat(approvalId).isNotBlank();
        final By item = By.cssSelector("[data-approval='" + approvalId + "']");
        final WebElement shown = new WebDriverWait(admin, Duration.ofSeconds(15))
                .until(ExpectedConditions.visibilityOfElementLocated(item));
        new WebDriverWait(other, Duration.ofSeconds(15)).until(ExpectedConditions.visibilityOfElementLocated(item));
        assertThat(shown.getText()).contains("shell.run", "HIGH", "touch");
        scan(admin, "approvals");
        shot(admin, "approvals");

        shown.findElement(By.xpath(".//button[normalize-space()='Approve once']")).click();
        // The decided approval leaves every open console.
        new WebDriverWait(admin, Duration.ofSeconds(15)).until(ExpectedConditions.invisibilityOfElementLocated(item));
        new WebDriverWait(other, Duration.ofSeconds(15)).until(ExpectedConditions.invisibilityOfElementLocated(item));

        final String approved = touch.replace("}}", "},\"approval_id\":\"" + approvalId + "\"}");
        final Map<?, ?> ran = fetch(other, "POST", "/v1/action", approved, true);
        ToolsSandbox.ifMissingExpectRefusal((Long) ran.get("status"), String.valueOf(ran.get("body")));
        assertThat(ran.get("status")).as(String.valueOf(ran.get("body"))).isEqualTo(200L);
        assertThat(String.valueOf(ran.get("body"))).contains("EXECUTED");
        // Once: the same approval does not run it again.
        assertThat(fetch(other, "POST", "/v1/action", approved, true).get("status")).isNotEqualTo(200L);
    }

    @Test
    @Order(50)
    void aMemoryIsFoundAndForgottenAfterConfirmation() throws Exception {
        go(admin, "memory");
        visible(admin, "memory-query").sendKeys("lighthouse Marmalade");
        admin.findElement(By.id("memory-query")).sendKeys(Keys.ENTER);
        // A search hit (with its ranks), not a card of the browsing before.
        final By hit = By.xpath("//ul[@id='memory-results']/li[contains(., 'BM25 rank')]");
        final WebElement first = new WebDriverWait(admin, Duration.ofSeconds(15))
                .until(ExpectedConditions.visibilityOfElementLocated(hit));
        final String name = first.getAttribute("data-memory");
        assertThat(first.getText()).contains("Marmalade");
        scan(admin, "memory");
        shot(admin, "memory");
        first.findElement(By.xpath(".//button[normalize-space()='Forget…']")).click();
        final WebElement dialog = visible(admin, "forget-dialog");
        dialog.findElement(By.id("forget-confirm")).click();
        new WebDriverWait(admin, Duration.ofSeconds(10)).until(ExpectedConditions.invisibilityOfElementLocated(
                By.cssSelector("[data-memory='" + name + "']")));
        waitText(admin, "notice", "Forgot " + name);
        // Gone for good: a new search does not find it.
        admin.findElement(By.cssSelector("#memory-form button")).click();
        new WebDriverWait(admin, Duration.ofSeconds(10)).until(d -> !d.findElement(By.id("memory-results")).getText()
                                                                     .contains(name));
    }

    @Test
    @Order(55)
    void trainingModeTurnedOnFromTheConsoleRefusesActionsAboveLowUntilTurnedOff() throws Exception {
        go(admin, "admin");
        admin.findElement(By.cssSelector("[data-jump='admin-training']")).click();
        waitText(admin, "training-state", "Off");
        assertThat(admin.findElement(By.id("training-hours")).getAttribute("value")).isEqualTo("24");
        visible(admin, "training-reason").sendKeys("nightly fine-tune", Keys.ENTER);
        waitText(admin, "training-state", "On");
        assertThat(admin.findElement(By.id("training-facts")).getText())
                .contains("nightly fine-tune", "Turned on by", "Since", "Lifts by itself");
        final String tenant = (String) ((Map<?, ?>) ((Map<?, ?>) fetch(other, "GET", "/api/auth/me", null, false)
                .get("body")).get("data")).get("tenant");
        final Map<?, ?> status = fetch(other, "GET", "/v1/training/status/" + tenant, null, false);
        assertThat(String.valueOf(status.get("body"))).contains("enabled=true", "reason=nightly fine-tune");
        // A HIGH action is refused before any approval is asked for.
        final Map<?, ?> refused = fetch(other, "POST", "/v1/action",
                                        "{\"tool_name\":\"shell.run\",\"arguments\":{\"argv\":[\"touch\",\"training.txt\"]}}", true);
        assertThat(((Map<?, ?>) ((Map<?, ?>) refused.get("body")).get("error")).get("code"))
                .as(String.valueOf(refused.get("body"))).isEqualTo("TRAINING_LOCKED");
        scan(admin, "admin: training mode");
        admin.executeScript("document.getElementById('admin-training').scrollIntoView()");
        shot(admin, "admin-training");
        admin.manage().window().setSize(new Dimension(390, 844));
        assertThat((Boolean) admin.executeScript("return document.documentElement.scrollWidth <= window.innerWidth"))
                .as("no sideways scroll on the training panel at phone width").isTrue();
        admin.manage().window().setSize(new Dimension(1280, 900));

        visible(admin, "training-disable").click();
        visible(admin, "confirm-dialog").findElement(By.id("confirm-yes")).click();
        waitText(admin, "training-state", "Off");
        assertThat(admin.switchTo().activeElement().getAttribute("id")).isEqualTo("training-reason");
        assertThat(String.valueOf(fetch(other, "GET", "/v1/training/status/" + tenant, null, false).get("body")))
                .doesNotContain("enabled=true");
    }

    @Test
    @Order(60)
    void signingOutRevokesTheSession() throws Exception {
        go(other, "account");
        scan(other, "account");
        shot(other, "account");
        final Cookie session = other.manage().getCookieNamed("sonia_session");
        other.findElement(By.id("sign-out")).click();
        visible(other, "signin-username");
        // The old cookie, presented again, no longer works: the login session was revoked.
        other.manage().addCookie(new Cookie.Builder(session.getName(), session.getValue()).path("/").build());
        assertThat(fetchStatus(other, "GET", "/api/auth/me", null, false)).isEqualTo(401);
    }

    // ------------------------------------------------------------------ helpers

    private static ChromeDriver browser(String chromium, String driver, Path microphone) {
        final ChromeOptions options = new ChromeOptions();
        options.setBinary(chromium);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                             "--window-size=1280,900", "--user-data-dir=" + tempProfile());
        if (microphone != null) { // Chromium's fake media stream: the file plays as the microphone, in a loop
            options.addArguments("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                                 "--use-file-for-fake-audio-capture=" + microphone.toAbsolutePath(),
                                 "--autoplay-policy=no-user-gesture-required");
        }
        final ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(driver)).usingAnyFreePort().build();
        return new ChromeDriver(service, options);
    }

    private static Path speechWav() throws Exception {
        final String espeak = which("espeak-ng");
        if (espeak == null) {
            return null;
        }
        final Path spoken = SHOTS.resolve("speech-raw.wav");
        final Process process = new ProcessBuilder(espeak, "-w", spoken.toString(), "What is the cat called?")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (process.waitFor() != 0) {
            return null;
        }
        // Two seconds of silence after the words, so the voice detector hears the end of the question.
        try (javax.sound.sampled.AudioInputStream in = javax.sound.sampled.AudioSystem.getAudioInputStream(spoken.toFile())) {
            final javax.sound.sampled.AudioFormat format = in.getFormat();
            final byte[] words = in.readAllBytes();
            final byte[] all = java.util.Arrays.copyOf(words, words.length + 2 * (int) format.getSampleRate() * format.getFrameSize());
            final Path wav = SHOTS.resolve("speech.wav");
            javax.sound.sampled.AudioSystem.write(
                    new javax.sound.sampled.AudioInputStream(new java.io.ByteArrayInputStream(all), format,
                                                             all.length / format.getFrameSize()),
                    javax.sound.sampled.AudioFileFormat.Type.WAVE, wav.toFile());
            return wav;
        }
    }

    private static String tempProfile() {
        try {
            return Files.createTempDirectory("chromium-profile").toString();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String which(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
            final Path candidate = Path.of(dir, command);
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        return null;
    }

    private static void signIn(WebDriver driver, String username, String password) {
        visible(driver, "signin-username").sendKeys(username);
        driver.findElement(By.id("signin-password")).sendKeys(password);
        driver.findElement(By.cssSelector("#signin-form button[type=submit]")).click();
        waitText(driver, "who", username);
    }

    private static void go(WebDriver driver, String view) {
        driver.findElement(By.cssSelector("#nav a[data-view='" + view + "']")).click();
        visible(driver, "view-" + view);
    }

    private static WebElement visible(WebDriver driver, String id) {
        return new WebDriverWait(driver, Duration.ofSeconds(15)).until(ExpectedConditions.visibilityOfElementLocated(By.id(id)));
    }

    private static void waitText(WebDriver driver, String id, String text) {
        new WebDriverWait(driver, Duration.ofSeconds(15)).ignoring(StaleElementReferenceException.class)
                .until(d -> d.findElement(By.id(id)).getText().contains(text));
    }

    /** A fetch from the page, as its own script would make it (cookie; the CSRF header if asked): status and body. */
    private static Map<?, ?> fetch(WebDriver driver, String method, String path, String body, boolean csrf) {
        return (Map<?, ?>) ((JavascriptExecutor) driver).executeAsyncScript(
                "const [method, path, body, csrf, done] = arguments;"
                + "const headers = {'content-type': 'application/json'};"
                + "if (csrf) headers['x-csrf-token'] = (document.cookie.match(/sonia_csrf=([^;]*)/) || [])[1] || '';"
                + "fetch(path, {method, headers, body: body === null ? undefined : body})"
                + ".then(async r => done({status: r.status, body: await r.json().catch(() => null)}))"
                + ".catch(e => done({status: -1, body: String(e)}));",
                method, path, body, csrf);
    }

    /** The status of {@code GET /api/auth/me} with an API key as the bearer, from a program (not the page). */
    private static int withKey(String secret) throws Exception {
        return java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/api/auth/me"))
                                         .header("authorization", "Bearer " + secret).build(),
                java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static long fetchStatus(WebDriver driver, String method, String path, String body, boolean csrf) {
        return (Long) fetch(driver, method, path, body, csrf).get("status");
    }

    /** axe-core on the page as it is: no serious or critical violation. */
    private static void scan(WebDriver driver, String screen) {
        final JavascriptExecutor js = (JavascriptExecutor) driver;
        if (!Boolean.TRUE.equals(js.executeScript("return typeof axe !== 'undefined'"))) {
            js.executeScript(axe);
        }
        final List<?> violations = (List<?>) js.executeAsyncScript(
                "const done = arguments[arguments.length - 1];"
                + "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations"
                + ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
                + ".map(v => v.id + ': ' + v.help + ' ' + v.nodes.map(n => n.target.join(' ') + ' (' + n.failureSummary + ')').join(', '))))"
                + ".catch(e => done(['axe failed: ' + e]));");
        assertThat(violations).as("serious or critical accessibility violations on " + screen).isEmpty();
    }

    private static void shot(ChromeDriver driver, String name) throws Exception {
        final File file = driver.getScreenshotAs(OutputType.FILE);
        Files.copy(file.toPath(), SHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }
}

package io.heterorag.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.heterorag.proto.v1.Feedback;
import io.heterorag.proto.v1.ListFeedbackRequest;
import io.heterorag.proto.v1.TuningGrpc;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The review page in a real browser (Debian's headless Chromium driven through /usr/bin/chromedriver)
 * against a real stack: ./heterorag up at its own ports, a slice of MedPix train ingested through
 * Kafka, a MedPix dev image uploaded through the page's file input. The answer streams in over the
 * page's SSE reader; the evidence cards, a citation link, feedback reaching tuning-service (checked
 * with Tuning.ListFeedback) and the recent-traces list are asserted; a screenshot is written to
 * target/review-page.png. Its own small stack (no training): the answerer is the extractive ranker,
 * whose answers always cite their evidence, and the test runs on its own in about two minutes.
 */
class ReviewPageIT {

    static final Path ROOT = Path.of(System.getProperty("repo.root", "..")).toAbsolutePath().normalize();
    static final Path MEDPIX = Path.of(System.getProperty("medpix.dir", "../../shared/data/medpix-2.0")).toAbsolutePath().normalize();
    static final Path WORK = Path.of("target/it-web").toAbsolutePath();
    static final Path SLICE = WORK.resolve("medpix-slice");
    static final int OFFSET = 10700;
    static final int CASES = 8;
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final ObjectMapper JSON = new ObjectMapper();

    static String web;
    static ManagedChannel tuning;
    static WebDriver browser;

    @BeforeAll
    static void startStackAndBrowser() throws Exception {
        // nothing is skipped silently: without Debian's browser this test fails and says what to install
        assertTrue(Files.isExecutable(CHROMEDRIVER) && Files.isExecutable(CHROMIUM),
                "the review page test needs Chromium and chromedriver: apt-get install -y chromium chromium-driver");
        if (Files.isDirectory(WORK.resolve("stack"))) {
            heterorag("down");
        }
        StackIT.deleteRecursively(WORK);
        StackIT.makeSlice(SLICE, CASES);
        StackIT.Run up = heterorag("up");
        assertEquals(0, up.exit(), up.err());
        web = up.out().lines().filter(l -> l.startsWith("web=")).map(l -> l.substring(4)).findFirst().orElseThrow(
                () -> new AssertionError("up prints web=URL: " + up.out()));
        assertTrue(web.matches("http://127\\.0\\.0\\.1:\\d+/"), web);
        String tuningAt = up.out().lines().filter(l -> l.startsWith("tuning=")).map(l -> l.substring(7)).findFirst().orElseThrow();
        tuning = ManagedChannelBuilder.forTarget(tuningAt).usePlaintext().build();
        StackIT.Run ingest = heterorag("ingest", "medpix", SLICE.toString(), "--split", "train");
        assertEquals(0, ingest.exit(), ingest.err());

        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort()
                .withLogFile(WORK.resolve("chromedriver.log").toFile()).build();
        ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile()).addArguments("--headless=new", "--no-sandbox",
                "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1366,2200", "--user-data-dir=" + WORK.resolve("chromium"));
        browser = new ChromeDriver(service, options);
    }

    @AfterAll
    static void stop() throws Exception {
        if (browser != null) {
            browser.quit();
        }
        if (tuning != null) {
            tuning.shutdownNow();
        }
        heterorag("down");
    }

    @Test
    void aClinicianAsksReadsTheEvidenceFollowsACitationAndCorrectsTheAnswer() throws Exception {
        JsonNode devCase = JSON.readTree(Files.readAllLines(MEDPIX.resolve("data_dev.jsonl")).get(0));
        String image = devCase.path("TAC").size() > 0 ? devCase.path("TAC").get(0).asText() : devCase.path("MRI").get(0).asText();
        Path imageFile = MEDPIX.resolve("images/" + image + ".jpg");

        browser.get(web);
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
        wait.until(b -> b.findElements(By.cssSelector("#demo-image option")).size() > 1);
        // every control has a label (keyboard and screen-reader use)
        for (WebElement control : browser.findElements(By.cssSelector("input:not([type=hidden]), select, textarea"))) {
            String id = control.getAttribute("id");
            assertFalse(browser.findElements(By.cssSelector("label[for='" + id + "']")).isEmpty(), "a label for #" + id);
        }

        browser.findElement(By.id("image-file")).sendKeys(imageFile.toString());
        WebElement question = browser.findElement(By.id("question"));
        question.clear();
        question.sendKeys(devCase.path("Case").path("History").asText() + " What is the most likely diagnosis?");
        new org.openqa.selenium.support.ui.Select(browser.findElement(By.id("modality"))).selectByValue("RADIOLOGY");
        // asked from the keyboard: Enter on the focused Ask button
        browser.findElement(By.id("ask")).sendKeys(Keys.ENTER);

        new WebDriverWait(browser, Duration.ofSeconds(120)).until(b -> {
            String s = b.findElement(By.id("status")).getText();
            assertFalse(s.startsWith("Not answered"), s);
            return s.equals("Answered.");
        });
        String answer = browser.findElement(By.id("answer")).getText();
        assertFalse(answer.isBlank());
        List<WebElement> reports = browser.findElements(By.cssSelector(".evidence-card.report"));
        List<WebElement> knowledge = browser.findElements(By.cssSelector(".evidence-card.knowledge"));
        assertFalse(reports.isEmpty(), "reference report cards");
        assertFalse(knowledge.isEmpty(), "knowledge cards");
        assertTrue(reports.get(0).getText().contains("image score"), reports.get(0).getText());
        assertTrue(browser.findElement(By.id("evidence")).getText().contains("chosen k = "), "the adaptive k is shown");
        assertFalse(browser.findElements(By.cssSelector("#queries li")).isEmpty(), "the query per corpus");
        String meta = browser.findElement(By.id("answer-meta")).getText();
        assertTrue(meta.contains("extractive-evidence-ranker@1"), meta);
        Set<String> stages = new HashSet<>();
        browser.findElements(By.cssSelector("#latencies td:first-child")).forEach(td -> stages.add(td.getText()));
        assertTrue(stages.containsAll(Set.of("reports", "queries", "knowledge", "answer", "total")), stages.toString());

        // a citation in the answer leads to its evidence card
        WebElement cite = browser.findElement(By.cssSelector("#answer a.cite"));
        String target = cite.getAttribute("href").replaceFirst(".*#", "");
        cite.click();
        WebElement card = browser.findElement(By.id(target));
        assertTrue(card.getAttribute("class").contains("evidence-card"), card.getAttribute("class"));
        assertEquals(target, ((JavascriptExecutor) browser).executeScript("return document.activeElement.id"), "focus moves to the card");
        String traceId = browser.findElement(By.id("trace-id")).getAttribute("value");
        assertEquals(36, traceId.length(), traceId);

        // feedback: wrong, with the right answer (the case's own diagnosis) and a note
        String right = devCase.path("Case").path("Title").asText();
        browser.findElement(By.id("verdict-wrong")).click();
        browser.findElement(By.id("correct-answer")).sendKeys(right);
        browser.findElement(By.id("comment")).sendKeys("browser test");
        browser.findElement(By.id("send-feedback")).click();
        wait.until(b -> b.findElement(By.id("feedback-status")).getText().startsWith("Feedback sent"));
        List<Feedback> stored = TuningGrpc.newBlockingStub(tuning).listFeedback(ListFeedbackRequest.newBuilder().setTraceId(traceId).build())
                .getFeedbackList();
        assertEquals(1, stored.size(), stored.toString());
        assertEquals(-1, stored.get(0).getRating());
        assertEquals(right, stored.get(0).getCorrectAnswer());
        assertEquals("browser test", stored.get(0).getComment());

        // the trace reaches tuning through Kafka; the recent list shows it with the feedback
        // a refresh re-renders the list: an element found before it may be stale when read, so try again on the next poll
        new WebDriverWait(browser, Duration.ofSeconds(60)).pollingEvery(Duration.ofSeconds(1))
                .ignoring(org.openqa.selenium.StaleElementReferenceException.class).until(b -> {
            b.findElement(By.id("refresh-traces")).click();
            List<WebElement> t = b.findElements(By.cssSelector("#traces .trace[data-trace-id='" + traceId + "']"));
            return !t.isEmpty() && t.get(0).getText().contains("wrong — right answer: " + right);
        });
        assertEquals(0L, ((JavascriptExecutor) browser).executeScript(
                "return localStorage.length + sessionStorage.length + document.cookie.length"), "nothing kept in the browser");
        ((JavascriptExecutor) browser).executeScript("window.scrollTo(0, 0)");
        Files.createDirectories(Path.of("target"));
        Files.write(Path.of("target/review-page.png"), ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
    }

    @Test
    void theHttpApiAnswersWithRealEvidence() throws Exception {
        byte[] image = Files.readAllBytes(MEDPIX.resolve("images").resolve(Files.readAllLines(SLICE.resolve("descriptions_train.jsonl")).get(0)
                .replaceAll(".*\"image\":\"([^\"]+)\".*", "$1") + ".jpg"));
        HttpClient http = HttpClient.newHttpClient();
        String body = "{\"request_id\":\"web-it\",\"question\":\"What is the most likely diagnosis?\",\"modality\":\"RADIOLOGY\","
                + "\"image\":{\"data\":\"" + Base64.getEncoder().encodeToString(image) + "\"}}";
        HttpResponse<String> res = http.send(HttpRequest.newBuilder(URI.create(web + "v1/answer")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, res.statusCode(), res.body());
        JsonNode json = JSON.readTree(res.body());
        assertTrue(json.path("reports").size() > 0 && json.path("knowledge").size() > 0, res.body());
        assertTrue(json.path("reports").get(0).has("score") && json.path("knowledge").get(0).has("corpus"));

        HttpResponse<String> stream = http.send(HttpRequest.newBuilder(URI.create(web + "v1/answer:stream"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, stream.statusCode(), stream.body());
        List<String> names = new ArrayList<>();
        stream.body().lines().filter(l -> l.startsWith("event:")).forEach(l -> names.add(l.substring(6).strip()));
        assertEquals("evidence", names.get(0));
        assertEquals("done", names.get(names.size() - 1));
        assertTrue(names.contains("segment"), names.toString());

        HttpResponse<String> openapi = http.send(HttpRequest.newBuilder(URI.create(web + "q/openapi?format=json")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, openapi.statusCode());
        assertTrue(JSON.readTree(openapi.body()).path("paths").has("/v1/answer:stream"));
    }

    static StackIT.Run heterorag(String... args) throws IOException, InterruptedException {
        return StackIT.heterorag(WORK, OFFSET, args);
    }
}

package io.heterorag.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.heterorag.proto.v1.AnswerEvent;
import io.heterorag.proto.v1.AnswerRequest;
import io.heterorag.proto.v1.AnswerResponse;
import io.heterorag.proto.v1.ClinicalRagGrpc;
import io.heterorag.proto.v1.GetStatsRequest;
import io.heterorag.proto.v1.GetTraceRequest;
import io.heterorag.proto.v1.Image;
import io.heterorag.proto.v1.ListTracesRequest;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.ReportHit;
import io.heterorag.proto.v1.RetrievalGrpc;
import io.heterorag.proto.v1.Task;
import io.heterorag.proto.v1.Trace;
import io.heterorag.proto.v1.TuningGrpc;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The whole platform across processes, driven through ./heterorag exactly as a user would: a real
 * KRaft broker and the four packaged services as separate JVMs, a slice of MedPix train ingested,
 * questions over gRPC and the CLI, the trace arriving in tuning-service through Kafka, then a
 * restart that must lose and duplicate nothing.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StackIT {

    static final Path ROOT = Path.of(System.getProperty("repo.root", "..")).toAbsolutePath().normalize();
    static final Path MEDPIX = Path.of(System.getProperty("medpix.dir", "../../shared/data/medpix-2.0")).toAbsolutePath();
    static final Path WORK = Path.of("target/it").toAbsolutePath();
    static final Path SLICE = WORK.resolve("medpix-slice");
    static final int OFFSET = 10000;
    static final int CASES = 20;
    static final ObjectMapper JSON = new ObjectMapper();

    static Map<String, String> endpoints;
    static ManagedChannel generation;
    static ManagedChannel retrieval;
    static ManagedChannel tuning;
    static JsonNode firstCase;
    static String traceId;
    static Map<String, Long> countsBeforeRestart;
    static long tracesBeforeRestart;

    record Run(int exit, String out, String err) {
    }

    @BeforeAll
    static void startStack() throws Exception {
        if (Files.isDirectory(WORK.resolve("stack"))) {
            heterorag("down"); // a stack left by an aborted run
        }
        deleteRecursively(WORK);
        Files.createDirectories(WORK);
        makeSlice();
        Run up = heterorag("up");
        assertEquals(0, up.exit(), up.err());
        endpoints = parseEndpoints(up.out());
        assertEquals(Set.of("kafka", "retrieval", "querygen", "generation", "tuning"), endpoints.keySet(), up.out());
        generation = channel("generation");
        retrieval = channel("retrieval");
        tuning = channel("tuning");
    }

    @AfterAll
    static void stopStack() throws Exception {
        for (ManagedChannel c : new ManagedChannel[] {generation, retrieval, tuning}) {
            if (c != null) {
                c.shutdownNow();
            }
        }
        heterorag("down");
    }

    @Test
    @Order(1)
    void upIsIdempotentAndPrintsTheSameEndpoints() throws Exception {
        Run again = heterorag("up");
        assertEquals(0, again.exit(), again.err());
        assertEquals(endpoints, parseEndpoints(again.out()));
        assertEquals(0, heterorag("status").exit());
    }

    @Test
    @Order(2)
    void ingestThroughKafkaIndexesTheSliceAndMalformedLinesGoToTheDeadLetterTopic() throws Exception {
        Run ingest = heterorag("ingest", "medpix", SLICE.toString(), "--split", "train");
        assertEquals(0, ingest.exit(), ingest.err());
        long images = Files.readAllLines(SLICE.resolve("descriptions_train.jsonl")).size();
        long topics = Files.readAllLines(SLICE.resolve("topics.jsonl")).size();
        List<AtlasSources.Item> items = new ArrayList<>();
        AtlasSources.medpix(SLICE, "train", items::add);
        long graph = items.stream().filter(i -> i.key().startsWith("corpus-graph/")).count();
        assertTrue(ingest.out().contains("reports-radiology: " + images + " published"), ingest.out());
        assertTrue(ingest.out().contains("corpus-book: " + topics + " published"), ingest.out());
        assertTrue(ingest.out().contains("indexed: "), ingest.out());
        Map<String, Long> counts = stats();
        // near-identical images (adjacent slices of one series) are stored once
        assertTrue(counts.get("reports-radiology") <= images && counts.get("reports-radiology") >= images - nearDuplicates(),
                counts + " of " + images + " images");
        assertTrue(counts.get("corpus-book") >= topics, "topics are chunked into at least one entry each");
        assertEquals(graph, counts.get("corpus-graph"), "terms and relations of the topics");
        assertTrue(ingest.out().contains("corpus-graph: 0 -> " + graph + " entries"), ingest.out());

        // a corpus file with one malformed line: the rest is indexed, the line goes to the DLQ, exit 1
        Path wiki = Files.writeString(WORK.resolve("wiki.jsonl"), """
                {"id": "wiki-ptx", "title": "Pneumothorax", "content": "A pneumothorax is air in the pleural space."}
                {"id": "wiki-broken", "title": "Broken
                """);
        Run partly = heterorag("ingest", "corpus", wiki.toString(), "--corpus", "wiki");
        assertEquals(1, partly.exit(), partly.out());
        assertTrue(partly.err().contains("malformed wiki.jsonl:2: not JSON"), partly.err());
        assertEquals(1L, stats().get("corpus-wiki"));
    }

    @Test
    @Order(3)
    void aConsumerKilledMidIngestLosesNothing() throws Exception {
        // real text: the findings of every MedPix train case as a research corpus
        List<String> lines = new ArrayList<>();
        long expected = 0;
        io.heterorag.retrieval.ingest.Chunker chunker = new io.heterorag.retrieval.ingest.Chunker(1000, 200);
        for (String c : Files.readAllLines(MEDPIX.resolve("data_train.jsonl"))) {
            JsonNode n = JSON.readTree(c);
            String findings = n.path("Case").path("Findings").asText("").strip();
            if (!findings.isEmpty()) {
                lines.add(JSON.createObjectNode().put("id", "findings:" + n.path("U_id").asText())
                        .put("title", n.path("Case").path("Title").asText("")).put("content", findings).toString());
                expected += chunker.chunk(findings).size();
            }
        }
        Path research = Files.write(WORK.resolve("findings.jsonl"), lines);
        Run published = heterorag("ingest", "corpus", research.toString(), "--corpus", "research", "--no-wait");
        assertEquals(0, published.exit(), published.err());
        long before = stats().getOrDefault("corpus-research", 0L);
        Path pid = WORK.resolve("stack/run/retrieval.pid");
        // SIGKILL, then wait until it is gone: "up" must not find it still dying and take it for alive
        ProcessHandle retrievalProcess = ProcessHandle.of(Long.parseLong(Files.readString(pid).strip())).orElseThrow();
        retrievalProcess.destroyForcibly();
        retrievalProcess.onExit().get(30, TimeUnit.SECONDS);
        assertTrue(before < expected, "killed while ingesting: " + before + " of " + expected + " entries stored");

        Run up = heterorag("up");
        assertEquals(0, up.exit(), up.err());
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (stats().getOrDefault("corpus-research", 0L) < expected && System.nanoTime() < end) {
            Thread.sleep(1000);
        }
        // the batch in flight at the kill was not committed: re-delivered and stored once
        assertEquals(expected, stats().get("corpus-research"));
    }

    @Test
    @Order(4)
    void anImageAndQuestionGetRelevantEvidenceAndAnAnswer() throws Exception {
        String image = firstCase.path("TAC").size() > 0 ? firstCase.path("TAC").get(0).asText() : firstCase.path("MRI").get(0).asText();
        String question = firstCase.path("Case").path("History").asText() + " What is the most likely diagnosis?";
        AnswerResponse res = ClinicalRagGrpc.newBlockingStub(generation).answer(AnswerRequest.newBuilder()
                .setRequestId("it-1").setImage(Image.newBuilder().setMediaType("image/jpeg")
                        .setData(ByteString.copyFrom(Files.readAllBytes(MEDPIX.resolve("images/" + image + ".jpg")))))
                .setModality(Modality.RADIOLOGY).setQuestion(question).build());
        traceId = res.getTraceId();

        Set<String> ingested = sliceImageIds();
        assertFalse(res.getReportsList().isEmpty());
        assertEquals("medpix:" + image, res.getReports(0).getId(), "an ingested image finds its own report first");
        for (ReportHit r : res.getReportsList()) {
            assertTrue(ingested.contains(r.getId()), r.getId() + " comes from the ingested slice");
        }
        assertFalse(res.getKnowledgeList().isEmpty());
        Set<String> questionWords = words(question);
        assertTrue(res.getKnowledgeList().stream().anyMatch(k -> !intersection(words(k.getText()), questionWords).isEmpty()),
                "a knowledge hit shares words with the question");
        assertFalse(res.getQueriesList().isEmpty());
        assertFalse(res.getAnswer().isBlank());
        assertFalse(res.getCandidatesList().isEmpty());
        assertEquals("extractive-evidence-ranker@1", res.getModels().getAnswerer());
        assertTrue(res.getLatenciesList().stream().anyMatch(l -> l.getStage().equals("total")));
    }

    @Test
    @Order(5)
    void streamingSendsEvidenceFirstThenSegmentsThenTheResponse() throws Exception {
        String image = sliceImageIds().iterator().next().substring("medpix:".length());
        Iterator<AnswerEvent> events = ClinicalRagGrpc.newBlockingStub(generation).streamAnswer(AnswerRequest.newBuilder()
                .setImage(Image.newBuilder().setData(ByteString.copyFrom(Files.readAllBytes(MEDPIX.resolve("images/" + image + ".jpg")))))
                .setQuestion("What abnormality is shown?").build());
        List<AnswerEvent.EventCase> kinds = new ArrayList<>();
        AnswerResponse done = null;
        StringBuilder text = new StringBuilder();
        while (events.hasNext()) {
            AnswerEvent e = events.next();
            kinds.add(e.getEventCase());
            if (e.hasSegment()) {
                text.append(e.getSegment().getText());
            }
            if (e.hasDone()) {
                done = e.getDone();
            }
        }
        assertEquals(AnswerEvent.EventCase.EVIDENCE, kinds.get(0));
        assertEquals(AnswerEvent.EventCase.DONE, kinds.get(kinds.size() - 1));
        assertTrue(kinds.contains(AnswerEvent.EventCase.SEGMENT));
        assertEquals(done.getAnswer(), text.toString(), "the segments make up the answer");
    }

    @Test
    @Order(6)
    void theCliAnswersInJsonAndRefusesBadInputWithOneLine() throws Exception {
        String image = sliceImageIds().iterator().next().substring("medpix:".length());
        Run ask = heterorag("ask", "--image", MEDPIX.resolve("images/" + image + ".jpg").toString(), "--modality", "radiology",
                "--question", "What is the most likely diagnosis?", "--json");
        assertEquals(0, ask.exit(), ask.err());
        JsonNode json = JSON.readTree(ask.out());
        for (String field : List.of("answer", "reports", "knowledge", "queries", "trace_id")) {
            assertTrue(json.has(field), "ask --json has " + field);
        }
        JsonNode report = json.path("reports").get(0);
        assertTrue(report.has("id") && report.has("score") && report.has("text"), report.toString());
        JsonNode hit = json.path("knowledge").get(0);
        assertTrue(hit.has("corpus") && hit.has("id") && hit.has("score") && hit.has("text"), hit.toString());

        Path notImage = WORK.resolve("not-an-image.jpg");
        Files.writeString(notImage, "plain text, not pixels");
        Path truncated = WORK.resolve("truncated.jpg");
        Files.write(truncated, Arrays.copyOf(Files.readAllBytes(MEDPIX.resolve("images/" + image + ".jpg")), 400));
        for (List<String> bad : List.of(
                List.of("ask", "--image", notImage.toString(), "--question", "q"),
                List.of("ask", "--image", truncated.toString(), "--question", "q"),
                List.of("ask", "--image", WORK.resolve("missing.png").toString(), "--question", "q"),
                List.of("ask", "--image", notImage.toString(), "--modality", "dental", "--question", "q"))) {
            Run r = heterorag(bad.toArray(String[]::new));
            assertTrue(r.exit() != 0, bad.toString());
            assertEquals(1, r.err().strip().lines().count(), "one line on stderr: " + r.err());
            assertTrue(r.err().startsWith("error: "), r.err());
        }
        assertTrue(heterorag("ask", "--image", truncated.toString(), "--question", "q").err().contains("INVALID_ARGUMENT"));
        StatusRuntimeException late = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                () -> ClinicalRagGrpc.newBlockingStub(generation).answer(AnswerRequest.newBuilder().setQuestion("q")
                        .setImage(Image.newBuilder().setData(ByteString.copyFrom(Files.readAllBytes(MEDPIX.resolve("images/" + image + ".jpg")))))
                        .setOptions(io.heterorag.proto.v1.AnswerOptions.newBuilder().setDeadlineMs(1)).build()));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, late.getStatus().getCode(), late.getStatus().toString());
        assertTrue(late.getStatus().getDescription().startsWith("stage "), late.getStatus().toString());
        assertEquals(0, heterorag("status").exit(), "the stack is healthy after bad input");
    }

    @Test
    @Order(7)
    void theTraceReachesTuningThroughKafka() throws Exception {
        Trace t = awaitTrace(traceId);
        assertEquals("it-1", t.getRequestId());
        assertEquals(64, t.getImageSha256().length());
        assertTrue(t.getImageBytes() > 0);
        assertFalse(t.getReportsList().isEmpty());
        assertTrue(t.getKnowledgeList().stream().allMatch(k -> !k.getId().isEmpty()));
    }

    @Test
    @Order(8)
    void evalDiagnosisPrintsTheFiguresWithAndWithoutTheImage() throws Exception {
        for (String mode : List.of("--json", "--no-image")) {
            List<String> args = new ArrayList<>(List.of("eval", "diagnosis", "--data", SLICE.toString(), "--split", "train",
                    "--limit", "3", "--json"));
            if (mode.equals("--no-image")) {
                args.add("--no-image");
            }
            Run r = heterorag(args.toArray(String[]::new));
            assertEquals(0, r.exit(), r.err());
            JsonNode json = JSON.readTree(r.out());
            assertEquals(3, json.path("n").asInt());
            assertTrue(json.path("top1").asDouble() <= json.path("top5").asDouble());
            assertTrue(json.path("latency_ms").has("knowledge"));
            assertEquals(mode.equals("--no-image"), !json.path("latency_ms").has("reports"));
        }
    }

    static final Path VQA = Path.of(System.getProperty("vqa.dir", "../../shared/data/vqa")).toAbsolutePath();

    @Test
    @Order(9)
    void evalVqaAndReportGenerationPrintAndWriteTheirFigures() throws Exception {
        Run vqa = heterorag("eval", "vqa", "--data", VQA.resolve("slake").toString(), "--split", "validate", "--limit", "6",
                "--blank-image", "--json");
        assertEquals(0, vqa.exit(), vqa.err());
        JsonNode v = JSON.readTree(vqa.out());
        assertEquals(6, v.path("n_closed").asInt() + v.path("n_open").asInt());
        assertEquals(0, v.path("errors").asInt(), vqa.err());
        assertFalse(v.path("generator").asText().isEmpty());
        assertTrue(v.path("p50_ms").asDouble() > 0);
        assertTrue(v.path("baseline_train_closed").asInt() > 1000, "baselines learn from SLAKE train: " + v);
        assertEquals(v, JSON.readTree(WORK.resolve("stack/eval/vqa-slake-validate-blank-image.json").toFile()));

        Run report = heterorag("eval", "report-generation", "--data", SLICE.toString(), "--split", "train", "--limit", "3", "--json");
        assertEquals(0, report.exit(), report.err());
        JsonNode r = JSON.readTree(report.out());
        assertEquals(3, r.path("n").asInt());
        for (String k : List.of("bleu_1", "bleu_4", "rouge_l", "baseline_bleu_1", "baseline_bleu_4", "baseline_rouge_l")) {
            assertTrue(r.path(k).asDouble() >= 0 && r.path(k).asDouble() <= 1, k + " in " + r);
        }
        assertTrue(Files.exists(WORK.resolve("stack/eval/report-generation-train.json")));
    }

    static String servedModel;

    @Test
    @Order(10)
    void aTrainedModClipIsPromotedThenServedAndEvaluated() throws Exception {
        Run train = heterorag("train", "modclip", "--modality", "radiology", "--data", SLICE.toString(), "--eval-split", "train",
                "--epochs", "3", "--image-size", "32", "--dimension", "32", "--json");
        assertEquals(0, train.exit(), train.err());
        JsonNode job = JSON.readTree(train.out().lines().reduce((a, b) -> b).orElseThrow());
        assertEquals("succeeded", job.path("state").asText());
        assertTrue(job.path("promoted").asBoolean(), "the first ModCLIP beats the baseline: " + job);
        assertTrue(job.path("parity_max_abs_diff").asDouble() <= 1e-4);
        servedModel = job.path("model").asText();
        // the CLI returns once retrieval serves it: the repository was re-embedded with it
        Run eval = heterorag("eval", "reports", "--data", SLICE.toString(), "--split", "train", "--json");
        assertEquals(0, eval.exit(), eval.err());
        JsonNode r = JSON.readTree(eval.out());
        assertEquals(servedModel, r.path("image_encoder").asText());
        assertEquals(sliceImageIds().size(), r.path("n").asInt());
        assertEquals(job.path("recall_at_5").asDouble(), r.path("recall_at_5").asDouble(), 1e-9,
                "the served model scores what the job measured on the same pairs");
        // answers keep working on the new encoder, and still find an ingested image's own report first
        String image = firstCase.path("TAC").size() > 0 ? firstCase.path("TAC").get(0).asText() : firstCase.path("MRI").get(0).asText();
        AnswerResponse res = ClinicalRagGrpc.newBlockingStub(generation).answer(AnswerRequest.newBuilder().setQuestion("q")
                .setImage(Image.newBuilder().setData(ByteString.copyFrom(Files.readAllBytes(MEDPIX.resolve("images/" + image + ".jpg")))))
                .build());
        assertEquals(servedModel, res.getModels().getImageEncoder());
        assertEquals("medpix:" + image, res.getReports(0).getId());
    }

    @Test
    @Order(11)
    void aTrainedGeneratorIsPromotedThenServedAndEvaluated() throws Exception {
        Run train = heterorag("train", "generator", "--vqa", VQA.toString(), "--medpix", MEDPIX.toString(), "--train-examples", "48",
                "--eval-examples", "24", "--epochs", "1", "--json");
        assertEquals(0, train.exit(), train.err());
        JsonNode job = JSON.readTree(train.out().lines().reduce((a, b) -> b).orElseThrow());
        assertEquals("generator", job.path("kind").asText());
        assertEquals("succeeded", job.path("state").asText(), job.toString());
        assertTrue(job.path("promoted").asBoolean(), "the first generator is promoted: " + job);
        String model = job.path("model").asText();
        // the CLI returned once generation-service answers with it: an evaluation names it
        Run eval = heterorag("eval", "vqa", "--data", VQA.resolve("slake").toString(), "--split", "validate", "--limit", "4", "--json");
        assertEquals(0, eval.exit(), eval.err());
        JsonNode v = JSON.readTree(eval.out());
        assertEquals(model, v.path("generator").asText());
        assertEquals(0, v.path("errors").asInt(), eval.err());
        // the examples the job trained on carry their evidence
        Path examples = Files.list(WORK.resolve("stack/train")).filter(p -> p.getFileName().toString().startsWith("generator-"))
                .findFirst().orElseThrow().resolve("train.jsonl");
        List<String> lines = Files.readAllLines(examples);
        assertEquals(48, lines.size());
        assertTrue(lines.stream().map(l -> field(l, "set")).collect(Collectors.toSet()).containsAll(Set.of("vqa-rad", "slake", "pathvqa",
                "medpix")));
    }

    @Test
    @Order(12)
    void theGeneratorAnswersAClosedQuestionYesOrNoCitingItsEvidenceAndTheTraceNamesIt() throws Exception {
        // a SLAKE validate yes/no question about an organ: the ingested MedPix findings mention organs
        JsonNode q = Files.readAllLines(VQA.resolve("slake/qa_validate.jsonl")).stream().map(StackIT::json)
                .filter(n -> n.path("question").asText().startsWith("Does the picture contain liver")).findFirst().orElseThrow();
        byte[] image = Files.readAllBytes(VQA.resolve("slake/images").resolve(q.path("image").asText()));
        AnswerResponse res = ClinicalRagGrpc.newBlockingStub(generation).withDeadlineAfter(60, TimeUnit.SECONDS)
                .answer(AnswerRequest.newBuilder().setRequestId("it-closed").setImage(Image.newBuilder().setData(ByteString.copyFrom(image)))
                        .setModality(Modality.RADIOLOGY).setTask(Task.CLOSED_VQA).setQuestion(q.path("question").asText()).build());
        assertTrue(Set.of("yes", "no").contains(res.getAnswer()), res.getAnswer());
        assertEquals("closed", res.getFinishReason());
        assertTrue(res.getModels().getAnswerer().startsWith("heterorag-vlm@"), res.getModels().getAnswerer());
        assertTrue(res.getPromptTokens() > 0);
        Set<String> evidence = new HashSet<>();
        res.getReportsList().forEach(r -> evidence.add(r.getId()));
        res.getKnowledgeList().forEach(k -> evidence.add(k.getId()));
        List<String> cited = res.getCandidates(0).getEvidenceIdsList();
        assertFalse(cited.isEmpty(), "a closed answer cites the evidence that shares the question's words");
        assertTrue(evidence.containsAll(cited), cited + " not all in " + evidence);
        Trace t = awaitTrace(res.getTraceId());
        assertEquals("it-closed", t.getRequestId());
        assertEquals(Task.CLOSED_VQA, t.getTask());
        assertEquals(res.getModels().getAnswerer(), t.getModels().getAnswerer());
        assertEquals(res.getAnswer(), t.getAnswer());
    }

    @Test
    @Order(13)
    void aRestartLosesNothingAndDuplicatesNothing() throws Exception {
        // graceful shutdown: on SIGTERM generation's readiness goes DOWN at once while calls in flight finish
        List<com.google.common.util.concurrent.ListenableFuture<AnswerResponse>> inFlight = new ArrayList<>();
        byte[] image = Files.readAllBytes(MEDPIX.resolve("images/" + sliceImageIds().iterator().next().substring("medpix:".length()) + ".jpg"));
        for (int i = 0; i < 3; i++) {
            inFlight.add(ClinicalRagGrpc.newFutureStub(generation).answer(AnswerRequest.newBuilder().setRequestId("shutdown-" + i)
                    .setImage(Image.newBuilder().setData(ByteString.copyFrom(image))).setModality(Modality.RADIOLOGY)
                    .setQuestion("Is there a mass?").build()));
        }
        long pid = Long.parseLong(Files.readString(WORK.resolve("stack/run/generation.pid")).strip());
        ProcessHandle.of(pid).orElseThrow().destroy();
        int ready = 200;
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
        while (ready == 200 && System.nanoTime() < until) {
            java.net.HttpURLConnection c = (java.net.HttpURLConnection) java.net.URI.create(
                    "http://127.0.0.1:" + (8103 + OFFSET) + "/q/health/ready").toURL().openConnection();
            ready = c.getResponseCode();
            c.disconnect();
        }
        assertEquals(503, ready, "readiness reports DOWN during the shutdown delay");
        for (var f : inFlight) {
            String trace = f.get(60, TimeUnit.SECONDS).getTraceId();
            assertFalse(trace.isEmpty(), "a call in flight at SIGTERM is answered");
            awaitTrace(trace); // and its trace is published before the process ends
        }

        // let the eval's traces land before counting
        Thread.sleep(3000);
        countsBeforeRestart = stats();
        tracesBeforeRestart = traceTotal();
        assertTrue(tracesBeforeRestart >= 8, "one trace per answered request so far: " + tracesBeforeRestart);

        assertEquals(0, heterorag("down").exit());
        assertTrue(heterorag("status").exit() != 0);
        Run refused = heterorag("ask", "--image", MEDPIX.resolve("images/" + sliceImageIds().iterator().next()
                .substring("medpix:".length()) + ".jpg").toString(), "--question", "q");
        assertEquals(3, refused.exit(), refused.err());
        assertEquals(1, refused.err().strip().lines().count(), refused.err());
        assertTrue(refused.err().contains("not running"), refused.err());
        Run up = heterorag("up");
        assertEquals(0, up.exit(), up.err());
        for (ManagedChannel c : new ManagedChannel[] {generation, retrieval, tuning}) {
            c.shutdownNow();
        }
        generation = channel("generation");
        retrieval = channel("retrieval");
        tuning = channel("tuning");

        assertEquals(countsBeforeRestart, stats());
        assertEquals(servedModel, io.heterorag.proto.v1.RetrievalGrpc.newBlockingStub(retrieval).embed(
                io.heterorag.proto.v1.EmbedRequest.getDefaultInstance()).getImageEncoder(), "the promoted model still serves");
        awaitTrace(traceId);
        Thread.sleep(3000); // any re-delivered trace would arrive now
        assertEquals(tracesBeforeRestart, traceTotal());

        Run again = heterorag("ingest", "medpix", SLICE.toString(), "--split", "train");
        assertEquals(0, again.exit(), again.err());
        assertFalse(again.out().contains(" entries"), "re-ingesting changes no collection: " + again.out());
        assertEquals(countsBeforeRestart, stats());
    }

    @Test
    @Order(14)
    void markersInImagesQuestionsAndReportsReachNoLogFileAndNoKafkaMessageButTheTraceFieldsThatHoldThem() throws Exception {
        String inImage = "ZQXMARKERIMAGE", inQuestion = "ZQXMARKERQUESTION", inReport = "ZQXMARKERREPORT";
        // a real JPEG with the marker in a comment segment (FF FE) right after the start of image: a dev image,
        // so no near-duplicate of it is stored already
        JsonNode dev = JSON.readTree(Files.readAllLines(MEDPIX.resolve("data_dev.jsonl")).get(0));
        String devImage = dev.path("TAC").size() > 0 ? dev.path("TAC").get(0).asText() : dev.path("MRI").get(0).asText();
        byte[] jpeg = Files.readAllBytes(MEDPIX.resolve("images/" + devImage + ".jpg"));
        byte[] comment = ("marker " + inImage).getBytes(StandardCharsets.US_ASCII);
        byte[] marked = new byte[jpeg.length + 4 + comment.length];
        System.arraycopy(jpeg, 0, marked, 0, 2);
        marked[2] = (byte) 0xFF;
        marked[3] = (byte) 0xFE;
        marked[4] = (byte) ((comment.length + 2) >> 8);
        marked[5] = (byte) (comment.length + 2);
        System.arraycopy(comment, 0, marked, 6, comment.length);
        System.arraycopy(jpeg, 2, marked, 6 + comment.length, jpeg.length - 2);
        Path images = Files.createDirectories(WORK.resolve("marker-images"));
        Files.write(images.resolve("marker.jpg"), marked);
        Path reports = Files.writeString(WORK.resolve("marker-reports.jsonl"),
                "{\"id\": \"marker-1\", \"image_path\": \"marker.jpg\", \"report\": \"Findings: " + inReport
                        + " opacity in the right upper lobe.\"}\n");
        Run ingest = heterorag("ingest", "reports", reports.toString(), "--images", images.toString());
        assertEquals(0, ingest.exit(), ingest.err());

        AnswerResponse res = ClinicalRagGrpc.newBlockingStub(generation).answer(AnswerRequest.newBuilder().setRequestId("marker-1")
                .setImage(Image.newBuilder().setData(ByteString.copyFrom(marked))).setModality(Modality.RADIOLOGY)
                .setQuestion(inQuestion + " is there an opacity in the right upper lobe?").build());
        assertTrue(res.getReportsList().stream().anyMatch(r -> r.getText().contains(inReport)), "the marked report was retrieved");
        awaitTrace(res.getTraceId());

        List<String> markers = List.of(inImage, inQuestion, inReport);
        try (var logs = Files.list(WORK.resolve("stack").resolve("logs"))) {
            for (Path log : logs.toList()) {
                String text = Files.readString(log, StandardCharsets.ISO_8859_1);
                for (String m : markers) {
                    assertFalse(text.contains(m), m + " found in " + log.getFileName());
                }
            }
        }
        // Kafka: ingest records carry reports and images by definition; a trace holds the question, the
        // answer and its candidates (documented in tuning.proto); nothing else may hold a marker
        java.util.Properties p = new java.util.Properties();
        p.put("bootstrap.servers", endpoints.get("kafka"));
        p.put("group.id", "marker-scan");
        p.put("auto.offset.reset", "earliest");
        p.put("key.deserializer", org.apache.kafka.common.serialization.ByteArrayDeserializer.class.getName());
        p.put("value.deserializer", org.apache.kafka.common.serialization.ByteArrayDeserializer.class.getName());
        int scanned = 0;
        boolean traceSeen = false;
        try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]>(p)) {
            List<String> topics = consumer.listTopics().keySet().stream().filter(t -> !t.startsWith("__")
                    && !t.equals("heterorag.atlas.ingest")).toList();
            consumer.subscribe(topics);
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            int quiet = 0;
            while (System.nanoTime() < end && quiet < 2) {
                var records = consumer.poll(java.time.Duration.ofMillis(500));
                quiet = records.isEmpty() && traceSeen ? quiet + 1 : 0;
                for (var r : records) {
                    byte[] value = r.value() == null ? new byte[0] : r.value();
                    if (r.topic().equals("heterorag.traces")) {
                        Trace t = Trace.parseFrom(value);
                        traceSeen |= t.getTraceId().equals(res.getTraceId());
                        value = t.toBuilder().clearQuestion().clearAnswer().clearCandidates().build().toByteArray();
                    }
                    String text = new String(value, StandardCharsets.ISO_8859_1)
                            + (r.key() == null ? "" : new String(r.key(), StandardCharsets.ISO_8859_1));
                    for (var h : r.headers()) {
                        text += new String(h.value(), StandardCharsets.ISO_8859_1);
                    }
                    for (String m : markers) {
                        assertFalse(text.contains(m), m + " found in a message on " + r.topic());
                    }
                    scanned++;
                }
            }
        }
        assertTrue(traceSeen, "the marked request's trace was among the scanned messages (" + scanned + ")");
    }

    // --- helpers

    static Run heterorag(String... args) throws IOException, InterruptedException {
        return heterorag(WORK, OFFSET, args);
    }

    /** ./heterorag with its state under {@code work}/stack and its ports moved by {@code offset}, never building. */
    static Run heterorag(Path work, int offset, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("bash", ROOT.resolve("heterorag").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(ROOT.toFile());
        pb.environment().put("HETERORAG_HOME", work.resolve("stack").toString());
        pb.environment().put("HETERORAG_PORT_OFFSET", String.valueOf(offset));
        pb.environment().put("HETERORAG_SKIP_BUILD", "1");
        pb.environment().put("MEDPIX_DIR", MEDPIX.toString());
        Path out = Files.createTempFile(work, "out", ".txt");
        Path err = Files.createTempFile(work, "err", ".txt");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("heterorag " + String.join(" ", args) + " did not finish in 300 s: " + Files.readString(err));
        }
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    static Map<String, String> parseEndpoints(String out) {
        Map<String, String> m = new LinkedHashMap<>();
        out.lines().filter(l -> l.matches("[a-z]+=127\\.0\\.0\\.1:\\d+")).forEach(l -> m.put(l.split("=")[0], l.split("=")[1]));
        return m;
    }

    static ManagedChannel channel(String name) {
        return ManagedChannelBuilder.forTarget(endpoints.get(name)).usePlaintext().maxInboundMessageSize(64 << 20).build();
    }

    static Map<String, Long> stats() {
        return RetrievalGrpc.newBlockingStub(retrieval).getStats(GetStatsRequest.getDefaultInstance()).getEntriesMap();
    }

    static long traceTotal() {
        return TuningGrpc.newBlockingStub(tuning).listTraces(ListTracesRequest.newBuilder().setPageSize(1).build()).getTotal();
    }

    static Trace awaitTrace(String id) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                return TuningGrpc.newBlockingStub(tuning).getTrace(GetTraceRequest.newBuilder().setTraceId(id).build());
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.NOT_FOUND && e.getStatus().getCode() != Status.Code.UNAVAILABLE) {
                    throw e;
                }
                assertTrue(System.nanoTime() < end, "trace " + id + " not in tuning-service within 60 s");
                Thread.sleep(250);
            }
        }
    }

    /** The first CASES train cases with their images and topics, in the MedPix layout (images linked). */
    static void makeSlice() throws IOException {
        firstCase = makeSlice(SLICE, CASES);
    }

    /** The first {@code n} train cases in {@code slice}; returns the first case. ReviewPageIT makes its own. */
    static JsonNode makeSlice(Path slice, int n) throws IOException {
        Files.createDirectories(slice);
        List<String> cases = Files.readAllLines(MEDPIX.resolve("data_train.jsonl")).subList(0, n);
        Set<String> caseIds = new HashSet<>();
        Set<String> titles = new HashSet<>();
        for (String c : cases) {
            JsonNode n2 = JSON.readTree(c);
            caseIds.add(n2.path("U_id").asText());
            titles.add(n2.path("Topic").path("Title").asText());
        }
        Files.write(slice.resolve("data_train.jsonl"), cases);
        Files.write(slice.resolve("descriptions_train.jsonl"), Files.readAllLines(MEDPIX.resolve("descriptions_train.jsonl"))
                .stream().filter(l -> caseIds.contains(field(l, "U_id"))).toList());
        Files.write(slice.resolve("topics.jsonl"), Files.readAllLines(MEDPIX.resolve("topics.jsonl")).stream()
                .filter(l -> titles.contains(field(l, "title"))).toList());
        Files.createSymbolicLink(slice.resolve("images"), MEDPIX.resolve("images"));
        return JSON.readTree(cases.get(0));
    }

    /** Slice images with another slice image within the near-duplicate distance (2 bits of 64). */
    static long nearDuplicates() throws IOException {
        List<Long> hashes = new ArrayList<>();
        for (String id : sliceImageIds()) {
            hashes.add(io.heterorag.model.image.PerceptualHash.of(javax.imageio.ImageIO.read(
                    MEDPIX.resolve("images/" + id.substring("medpix:".length()) + ".jpg").toFile())));
        }
        return hashes.stream().filter(h -> hashes.stream().filter(o -> io.heterorag.model.image.PerceptualHash.distance(h, o) <= 2).count() > 1)
                .count();
    }

    static Set<String> sliceImageIds() throws IOException {
        return Files.readAllLines(SLICE.resolve("descriptions_train.jsonl")).stream().map(l -> "medpix:" + field(l, "image"))
                .collect(Collectors.toCollection(java.util.LinkedHashSet::new));
    }

    static JsonNode json(String line) {
        try {
            return JSON.readTree(line);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static String field(String jsonLine, String name) {
        try {
            return JSON.readTree(jsonLine).path(name).asText();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static Set<String> words(String text) {
        return Arrays.stream(text.toLowerCase(Locale.ROOT).split("[^a-z]+")).filter(w -> w.length() > 4)
                .collect(Collectors.toSet());
    }

    static Set<String> intersection(Set<String> a, Set<String> b) {
        Set<String> s = new HashSet<>(a);
        s.retainAll(b);
        return s;
    }

    static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            try (var children = Files.list(p)) {
                for (Path c : children.toList()) {
                    deleteRecursively(c);
                }
            }
        }
        Files.delete(p);
    }
}

package io.heterorag.generation.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import com.google.protobuf.ByteString;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.heterorag.generation.answer.Answerer;
import io.heterorag.generation.answer.GenerationMetrics;
import io.heterorag.generation.answer.ServedAnswerer;
import io.heterorag.generation.trace.TracePublisher;
import io.heterorag.proto.v1.AnswerOptions;
import io.heterorag.proto.v1.AnswerRequest;
import io.heterorag.proto.v1.AnswerResponse;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.CorpusQuery;
import io.heterorag.proto.v1.Evidence;
import io.heterorag.proto.v1.EvidenceRef;
import io.heterorag.proto.v1.GenerateQueriesRequest;
import io.heterorag.proto.v1.GenerateQueriesResponse;
import io.heterorag.proto.v1.Image;
import io.heterorag.proto.v1.KnowledgeHit;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.QueryGenGrpc;
import io.heterorag.proto.v1.RankedAnswer;
import io.heterorag.proto.v1.ReportHit;
import io.heterorag.proto.v1.RetrievalGrpc;
import io.heterorag.proto.v1.RetrieveReportsRequest;
import io.heterorag.proto.v1.RetrieveReportsResponse;
import io.heterorag.proto.v1.SearchCorpusRequest;
import io.heterorag.proto.v1.SearchCorpusResponse;
import io.heterorag.proto.v1.StageLatency;
import io.heterorag.proto.v1.Task;
import io.heterorag.proto.v1.Trace;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * RagPipeline as one class, through its public behaviour: run(request, onEvidence, onSegment), the
 * response and the published trace. Retrieval and QueryGen are fakes on a loopback gRPC server that
 * record what they were asked (and the deadline they were given); the answerer is a fake that records
 * the question it got and answers with fixed values.
 */
class RagPipelineStagesTest {

    static Server server;
    static ManagedChannel channel;

    /** What the fakes were asked, by method; the remaining deadline of each call in ms. */
    static final List<Object> calls = new CopyOnWriteArrayList<>();
    static final Map<String, Long> deadlineMs = new ConcurrentHashMap<>();
    static volatile Modality retrievedModality = Modality.PATHOLOGY;
    static volatile Status failReports;

    final List<Trace> traces = new CopyOnWriteArrayList<>();

    @org.junit.jupiter.api.io.TempDir

    java.nio.file.Path traceBuffer;
    SimpleMeterRegistry registry;
    FakeAnswerer answerer;
    final List<Evidence> evidence = new ArrayList<>();

    static final ByteString IMAGE = ByteString.copyFromUtf8("not decoded by the pipeline: only hashed and passed on");

    static final List<ReportHit> REPORTS = List.of(
            ReportHit.newBuilder().setId("r1").setScore(0.9f).setText("Large right pneumothorax.").build(),
            ReportHit.newBuilder().setId("r2").setScore(0.5f).setText("Normal chest.").build());

    static KnowledgeHit hit(Corpus c, String id, float score) {
        return KnowledgeHit.newBuilder().setCorpus(c).setId(id).setScore(score).setTitle("T " + id).setText("text " + id).build();
    }

    static long remaining() {
        Deadline d = Context.current().getDeadline();
        return d == null ? -1 : d.timeRemaining(TimeUnit.MILLISECONDS);
    }

    static final class FakeRetrieval extends RetrievalGrpc.RetrievalImplBase {
        @Override
        public void retrieveReports(RetrieveReportsRequest req, StreamObserver<RetrieveReportsResponse> out) {
            calls.add(req);
            deadlineMs.put("reports", remaining());
            if (failReports != null) {
                out.onError(failReports.asRuntimeException());
                return;
            }
            out.onNext(RetrieveReportsResponse.newBuilder().addAllReports(REPORTS).setModality(retrievedModality)
                    .setImageEncoder("fake-image-encoder@1").setChosenK(2).build());
            out.onCompleted();
        }

        /** Per corpus: two chunks of one document, then two more documents, then a document shared by every corpus. */
        @Override
        public void searchCorpus(SearchCorpusRequest req, StreamObserver<SearchCorpusResponse> out) {
            calls.add(req);
            deadlineMs.put("knowledge", remaining());
            String c = req.getCorpus().name().toLowerCase();
            List<KnowledgeHit> hits = req.getQuery().equals("second")
                    ? List.of(hit(req.getCorpus(), c + "-a#3", 0.95f), hit(req.getCorpus(), c + "-d#0", 0.4f))
                    : List.of(hit(req.getCorpus(), c + "-a#0", 0.9f), hit(req.getCorpus(), c + "-a#1", 0.8f),
                            hit(req.getCorpus(), c + "-b#0", 0.7f), hit(req.getCorpus(), c + "-c#0", 0.6f));
            out.onNext(SearchCorpusResponse.newBuilder().addAllHits(hits).setTextEncoder("fake-text-encoder@1").build());
            out.onCompleted();
        }
    }

    static final class FakeQueryGen extends QueryGenGrpc.QueryGenImplBase {
        @Override
        public void generateQueries(GenerateQueriesRequest req, StreamObserver<GenerateQueriesResponse> out) {
            calls.add(req);
            deadlineMs.put("queries", remaining());
            out.onNext(GenerateQueriesResponse.newBuilder().setGenerator("fake-querygen@1")
                    .addQueries(CorpusQuery.newBuilder().setCorpus(Corpus.BOOK).setText("first"))
                    .addQueries(CorpusQuery.newBuilder().setCorpus(Corpus.WIKI).setText("first"))
                    .addQueries(CorpusQuery.newBuilder().setCorpus(Corpus.BOOK).setText("second")).build());
            out.onCompleted();
        }
    }

    /** Records the question and whether the evidence had been handed on before the answer stage. */
    final class FakeAnswerer implements Answerer {
        final AtomicReference<Question> asked = new AtomicReference<>();
        volatile int evidenceBeforeAnswer = -1;
        volatile Deadline deadline;

        @Override
        public String id() {
            return "fake-answerer@1";
        }

        @Override
        public Answer answer(Question q, Deadline d, Consumer<Segment> onSegment) {
            asked.set(q);
            deadline = d;
            evidenceBeforeAnswer = evidence.size();
            Segment s = new Segment("A pneumothorax.", List.of("book-a#0"));
            onSegment.accept(s);
            return new Answer("A pneumothorax.", List.of(s), List.of(RankedAnswer.newBuilder().setText("pneumothorax").setScore(1.5f)
                    .addEvidenceIds("book-a#0").build()), "eos", 42, 7, 3);
        }
    }

    @BeforeAll
    static void start() throws Exception {
        server = ServerBuilder.forPort(0).addService(new FakeRetrieval()).addService(new FakeQueryGen()).build().start();
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @BeforeEach
    void reset() {
        calls.clear();
        deadlineMs.clear();
        retrievedModality = Modality.PATHOLOGY;
        failReports = null;
        registry = new SimpleMeterRegistry();
        answerer = new FakeAnswerer();
    }

    RagPipeline pipeline() {
        ServedAnswerer served = new ServedAnswerer(answerer, (b, ep) -> {
            throw new UnsupportedOperationException();
        }, "cpu", 16, new GenerationMetrics(registry));
        RagPipeline p = new RagPipeline(RetrievalGrpc.newBlockingStub(channel), QueryGenGrpc.newBlockingStub(channel),
                new TracePublisher(new RagPipelineTest.RecordingSender(traces), traceBuffer, 1 << 20, 60_000, registry), registry, served);
        p.defaultDeadlineMs = 30_000;
        p.stageDeadlineMs = 10_000;
        p.maxImageBytes = 1 << 20;
        p.knowledgeCandidates = 7;
        p.knowledgePerQuery = 2;
        return p;
    }

    static AnswerRequest.Builder request() {
        return AnswerRequest.newBuilder().setRequestId("req-7").setQuestion("Is there a pneumothorax?")
                .setImage(Image.newBuilder().setMediaType("image/png").setData(IMAGE));
    }

    AnswerResponse run(RagPipeline p, AnswerRequest req) {
        return p.run(req, evidence::add, s -> {
        });
    }

    static <T> List<T> calls(Class<T> type) {
        return calls.stream().filter(type::isInstance).map(type::cast).toList();
    }

    static List<String> stages(List<StageLatency> latencies) {
        return latencies.stream().map(StageLatency::getStage).toList();
    }

    static final List<String> KNOWLEDGE = List.of("book-a#0", "book-b#0", "wiki-a#0", "wiki-b#0", "book-d#0");

    @Test
    void theStagesRunInOrderWithWhatTheEarlierOnesFound() {
        List<Answerer.Segment> segments = new ArrayList<>();
        AnswerResponse res = pipeline().run(request().setModality(Modality.RADIOLOGY).setOptions(AnswerOptions.newBuilder()
                .setReportK(3).addCorpora(Corpus.BOOK).addCorpora(Corpus.WIKI)).build(), evidence::add, segments::add);

        RetrieveReportsRequest reports = calls(RetrieveReportsRequest.class).get(0);
        assertEquals(IMAGE, reports.getImage().getData());
        assertEquals(Modality.RADIOLOGY, reports.getModality());
        assertEquals(3, reports.getK());
        GenerateQueriesRequest queries = calls(GenerateQueriesRequest.class).get(0);
        assertEquals("Is there a pneumothorax?", queries.getQuestion());
        assertEquals(Modality.PATHOLOGY, queries.getModality(), "the modality retrieval resolved");
        assertEquals(Task.OPEN_VQA, queries.getTask(), "an unspecified task is open VQA");
        assertEquals(List.of("Large right pneumothorax.", "Normal chest."), queries.getReportTextsList());
        assertEquals(List.of(Corpus.BOOK, Corpus.WIKI), queries.getCorporaList());
        List<SearchCorpusRequest> searches = calls(SearchCorpusRequest.class);
        // the searches run at once, so they arrive in any order (the hits keep the queries' order)
        assertEquals(java.util.Set.of("BOOK first", "WIKI first", "BOOK second"),
                searches.stream().map(s -> s.getCorpus() + " " + s.getQuery()).collect(java.util.stream.Collectors.toSet()));
        assertEquals(3, searches.size());
        searches.forEach(s -> assertEquals(7, s.getK(), "knowledge-candidates per search"));
        assertEquals(List.of("reports", "queries", "knowledge"), List.of(calls.get(0), calls.get(1), calls.get(2)).stream()
                .map(c -> c instanceof RetrieveReportsRequest ? "reports" : c instanceof GenerateQueriesRequest ? "queries" : "knowledge")
                .toList());

        // two per query, one chunk per document, a document of an earlier query not again
        assertEquals(KNOWLEDGE, res.getKnowledgeList().stream().map(KnowledgeHit::getId).toList());
        assertEquals(REPORTS, res.getReportsList());
        assertEquals(3, res.getQueriesCount());
        assertEquals(Modality.PATHOLOGY, res.getModality());
        assertEquals(2, res.getReportsChosenK());

        // the answerer got the question with the evidence, after the evidence was handed on
        Answerer.Question q = answerer.asked.get();
        assertEquals(Task.OPEN_VQA, q.task());
        assertEquals("Is there a pneumothorax?", q.question());
        assertEquals(IMAGE, q.image().getData());
        assertEquals(REPORTS, q.reports());
        assertEquals(res.getKnowledgeList(), q.knowledge());
        assertEquals(List.of(Corpus.BOOK, Corpus.WIKI), q.options().getCorporaList());
        assertEquals(1, answerer.evidenceBeforeAnswer);
        assertEquals(1, evidence.size());
        assertEquals(Evidence.newBuilder().addAllReports(REPORTS).addAllKnowledge(res.getKnowledgeList()).addAllQueries(res.getQueriesList())
                .build(), evidence.get(0));
        assertEquals(List.of(new Answerer.Segment("A pneumothorax.", List.of("book-a#0"))), segments);

        // the answer's fields
        assertEquals("A pneumothorax.", res.getAnswer());
        assertEquals("eos", res.getFinishReason());
        assertEquals(42, res.getPromptTokens());
        assertEquals(7, res.getGeneratedTokens());
        assertEquals(3, res.getEvidenceDropped());
        assertEquals(1.5f, res.getCandidates(0).getScore());
        assertEquals("fake-answerer@1", res.getModels().getAnswerer());
        assertEquals("fake-image-encoder@1", res.getModels().getImageEncoder());
        assertEquals("fake-querygen@1", res.getModels().getQueryGenerator());
        assertEquals("fake-text-encoder@1", res.getModels().getTextEncoder());
        assertEquals(36, res.getTraceId().length(), "a UUID");

        // latencies: each stage once, in order, then the total, which spans them
        assertEquals(List.of("reports", "queries", "knowledge", "answer", "total"), stages(res.getLatenciesList()));
        double sum = res.getLatenciesList().subList(0, 4).stream().mapToDouble(StageLatency::getMillis).sum();
        double total = res.getLatencies(4).getMillis();
        assertTrue(res.getLatenciesList().stream().allMatch(l -> l.getMillis() >= 0 && l.getMillis() < 5_000), res.getLatenciesList().toString());
        assertTrue(total >= sum && total < sum + 5_000, total + " ms total for " + sum + " ms of stages");
        for (String stage : List.of("reports", "queries", "knowledge", "answer")) {
            assertEquals(1, registry.get("heterorag_stage_seconds").tag("stage", stage).timer().count(), stage);
        }
    }

    @Test
    void anAnsweredRequestIsTracedWithItsIdsScoresModelsAndAHashOfTheImage() throws Exception {
        long before = System.currentTimeMillis();
        AnswerResponse res = run(pipeline(), request().setTask(Task.CLOSED_VQA).build());
        long after = System.currentTimeMillis();
        assertEquals(1, traces.size());
        Trace t = traces.get(0);
        assertEquals(res.getTraceId(), t.getTraceId());
        assertEquals("req-7", t.getRequestId());
        assertTrue(t.getCreatedAtMs() >= before && t.getCreatedAtMs() <= after);
        assertEquals(Modality.PATHOLOGY, t.getModality());
        assertEquals(Task.CLOSED_VQA, t.getTask());
        assertEquals("Is there a pneumothorax?", t.getQuestion());
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(IMAGE.toByteArray())), t.getImageSha256());
        assertEquals(IMAGE.size(), t.getImageBytes());
        assertEquals(res.getQueriesList(), t.getQueriesList());
        assertEquals("A pneumothorax.", t.getAnswer());
        assertEquals(res.getCandidatesList(), t.getCandidatesList());
        assertEquals(res.getLatenciesList(), t.getLatenciesList());
        assertEquals(res.getModels(), t.getModels());
        assertEquals(List.of(EvidenceRef.newBuilder().setId("r1").setScore(0.9f).build(), EvidenceRef.newBuilder().setId("r2")
                .setScore(0.5f).build()), t.getReportsList());
        assertEquals(KNOWLEDGE, t.getKnowledgeList().stream().map(EvidenceRef::getId).toList());
        assertEquals(EvidenceRef.newBuilder().setId("wiki-a#0").setScore(0.9f).setCorpus(Corpus.WIKI).build(), t.getKnowledge(2));
        assertEquals(Task.CLOSED_VQA, answerer.asked.get().task());
    }

    @Test
    void evidenceOnlyEndsAfterTheKnowledgeWithoutAnswerOrTrace() {
        AnswerResponse res = run(pipeline(), request().setOptions(AnswerOptions.newBuilder().setEvidenceOnly(true)).build());
        assertEquals(KNOWLEDGE, res.getKnowledgeList().stream().map(KnowledgeHit::getId).toList());
        assertEquals(List.of("reports", "queries", "knowledge", "total"), stages(res.getLatenciesList()));
        assertEquals("", res.getAnswer());
        assertEquals("", res.getTraceId());
        assertEquals("fake-answerer@1", res.getModels().getAnswerer());
        assertEquals(null, answerer.asked.get(), "no answer stage");
        assertEquals(1, evidence.size());
        assertTrue(traces.isEmpty());
    }

    @Test
    void skipFlagsLeaveOutTheirStages() {
        // without reports: no retrieval call, the requested modality (else radiology), queries from the question alone
        AnswerResponse noReports = run(pipeline(), request().setModality(Modality.OPHTHALMOLOGY)
                .setOptions(AnswerOptions.newBuilder().setSkipReports(true)).build());
        assertEquals(List.of(), calls(RetrieveReportsRequest.class));
        assertEquals(Modality.OPHTHALMOLOGY, noReports.getModality());
        assertEquals(Modality.OPHTHALMOLOGY, calls(GenerateQueriesRequest.class).get(0).getModality());
        assertEquals(List.of(), calls(GenerateQueriesRequest.class).get(0).getReportTextsList());
        assertEquals(List.of("queries", "knowledge", "answer", "total"), stages(noReports.getLatenciesList()));
        assertEquals(0, noReports.getReportsCount());
        assertEquals(64, traces.get(0).getImageSha256().length(), "an image sent anyway is hashed");

        calls.clear();
        AnswerResponse bare = run(pipeline(), request().setImage(Image.getDefaultInstance())
                .setOptions(AnswerOptions.newBuilder().setSkipReports(true).setSkipKnowledge(true)).build());
        assertEquals(List.of(), calls);
        assertEquals(Modality.RADIOLOGY, bare.getModality());
        assertEquals(List.of("answer", "total"), stages(bare.getLatenciesList()));
        assertEquals(0, bare.getKnowledgeCount());
        assertEquals(0, bare.getQueriesCount());
        assertEquals("", bare.getModels().getQueryGenerator());
        assertEquals("", traces.get(1).getImageSha256(), "no image, no hash");
        assertEquals(0, traces.get(1).getImageBytes());

        // without knowledge: the reports, no queries
        calls.clear();
        retrievedModality = Modality.MODALITY_UNSPECIFIED;
        AnswerResponse noKnowledge = run(pipeline(), request().setModality(Modality.PATHOLOGY)
                .setOptions(AnswerOptions.newBuilder().setSkipKnowledge(true)).build());
        assertEquals(1, calls.size());
        assertEquals(Modality.PATHOLOGY, noKnowledge.getModality(), "retrieval resolved none: the requested one");
        assertEquals(List.of("reports", "answer", "total"), stages(noKnowledge.getLatenciesList()));
        assertEquals(REPORTS, noKnowledge.getReportsList());
    }

    @Test
    void eachStageRunsUnderTheSoonerOfItsBudgetAndTheRequestsDeadline() {
        run(pipeline(), request().setOptions(AnswerOptions.newBuilder().setDeadlineMs(4_000)).build());
        for (String stage : List.of("reports", "queries", "knowledge")) {
            long ms = deadlineMs.get(stage);
            assertTrue(ms > 2_000 && ms <= 4_000, stage + ": " + ms + " ms left, the request's 4 s deadline");
        }
        long answerMs = answerer.deadline.timeRemaining(TimeUnit.MILLISECONDS);
        assertTrue(answerMs > 2_000 && answerMs <= 4_000, "the answerer gets the request's deadline: " + answerMs);

        run(pipeline(), request().build());
        long ms = deadlineMs.get("reports");
        assertTrue(ms > 8_000 && ms <= 10_000, "the stage budget (10 s) is sooner than the default 30 s: " + ms);
        long whole = answerer.deadline.timeRemaining(TimeUnit.MILLISECONDS);
        assertTrue(whole > 20_000 && whole <= 30_000, "the request's default deadline: " + whole);

        // a caller's deadline sooner than the request's own wins
        Context.current().withDeadline(Deadline.after(3_000, TimeUnit.MILLISECONDS), java.util.concurrent.Executors.newSingleThreadScheduledExecutor())
                .run(() -> run(pipeline(), request().setOptions(AnswerOptions.newBuilder().setDeadlineMs(20_000)).build()));
        long callers = deadlineMs.get("reports");
        assertTrue(callers > 1_000 && callers <= 3_000, "the caller's 3 s: " + callers);
    }

    @Test
    void aPassedDeadlineFailsTheRequestNamingTheStageAndAFailingRepositoryDegradesIt() {
        StatusRuntimeException late = assertThrows(StatusRuntimeException.class, () -> Context.current()
                .withDeadline(Deadline.after(-1, TimeUnit.MILLISECONDS), java.util.concurrent.Executors.newSingleThreadScheduledExecutor())
                .call(() -> run(pipeline(), request().build())));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, late.getStatus().getCode());
        assertEquals("stage reports: the request's deadline passed before it started", late.getStatus().getDescription());

        assertTrue(traces.isEmpty());
        assertEquals(List.of(), evidence);

        // a failing report repository degrades the answer instead of failing it (RagPipelineFaultsTest has the rest)
        failReports = Status.UNAVAILABLE.withDescription("retrieval is down");
        AnswerResponse degraded = run(pipeline(), request().build());
        assertEquals("reports", degraded.getDegraded(0).getStage());
        assertTrue(degraded.getDegraded(0).getReason().contains("retrieval is down"), degraded.getDegraded(0).getReason());
        assertEquals(0, degraded.getReportsCount());
    }

    static String refusal(RagPipeline p, AnswerRequest req) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> p.run(req, ev -> {
        }, s -> {
        }));
        return e.getStatus().getCode() + ": " + e.getStatus().getDescription();
    }

    static AnswerRequest with(AnswerOptions.Builder o) {
        return request().setOptions(o).build();
    }

    @Test
    void eachInputCheckAtItsBoundary() {
        RagPipeline p = pipeline();
        assertEquals("INVALID_ARGUMENT: unknown modality 9", refusal(p, request().setModalityValue(9).build()));
        assertEquals("INVALID_ARGUMENT: unknown task 9", refusal(p, request().setTaskValue(9).build()));
        assertEquals("INVALID_ARGUMENT: unknown corpus in options.corpora", refusal(p, with(AnswerOptions.newBuilder().addCorpora(Corpus.CORPUS_UNSPECIFIED))));
        assertEquals("INVALID_ARGUMENT: unknown corpus in options.corpora", refusal(p, with(AnswerOptions.newBuilder().addCorporaValue(99))));
        assertEquals("INVALID_ARGUMENT: options.report_k is -1, outside 0..64 (heterorag.generation.max-report-k)",
                refusal(p, with(AnswerOptions.newBuilder().setReportK(-1))));
        assertEquals("INVALID_ARGUMENT: image is empty (set options.skip_reports to answer without an image)",
                refusal(p, request().setImage(Image.getDefaultInstance()).build()));
        p.maxImageBytes = IMAGE.size() - 1;
        assertEquals("RESOURCE_EXHAUSTED: image of " + IMAGE.size() + " bytes exceeds the limit of " + (IMAGE.size() - 1) + " bytes",
                refusal(p, request().build()));
        p.maxImageBytes = IMAGE.size();
        assertEquals("INVALID_ARGUMENT: question is empty (required for VQA tasks)", refusal(p, request().setQuestion(" ").build()));
        assertEquals("INVALID_ARGUMENT: options.max_new_tokens must be in 0..1024 (0: the generator's default), not 1025",
                refusal(p, with(AnswerOptions.newBuilder().setMaxNewTokens(1025))));
        assertEquals("INVALID_ARGUMENT: options.max_new_tokens must be in 0..1024 (0: the generator's default), not 4294967295",
                refusal(p, with(AnswerOptions.newBuilder().setMaxNewTokens(-1))));
        assertEquals("INVALID_ARGUMENT: options.temperature must be in 0..2 (0: greedy), not 2.01",
                refusal(p, with(AnswerOptions.newBuilder().setTemperature(2.01f))));
        assertEquals("INVALID_ARGUMENT: options.temperature must be in 0..2 (0: greedy), not -0.01",
                refusal(p, with(AnswerOptions.newBuilder().setTemperature(-0.01f))));
        assertEquals("INVALID_ARGUMENT: options.temperature must be in 0..2 (0: greedy), not NaN",
                refusal(p, with(AnswerOptions.newBuilder().setTemperature(Float.NaN))));
        assertEquals("INVALID_ARGUMENT: options.top_p must be in 0..1 (0: off), not 1.01", refusal(p, with(AnswerOptions.newBuilder().setTopP(1.01f))));
        assertEquals("INVALID_ARGUMENT: options.top_p must be in 0..1 (0: off), not -0.5", refusal(p, with(AnswerOptions.newBuilder().setTopP(-0.5f))));
        assertEquals("INVALID_ARGUMENT: options.top_k must be in 0..1000 (0: off), not 1001", refusal(p, with(AnswerOptions.newBuilder().setTopK(1001))));
        assertEquals("INVALID_ARGUMENT: options.repetition_penalty must be 0 (the generator's default) or in 1..2, not 0.5",
                refusal(p, with(AnswerOptions.newBuilder().setRepetitionPenalty(0.5f))));
        assertEquals("INVALID_ARGUMENT: options.repetition_penalty must be 0 (the generator's default) or in 1..2, not 2.5",
                refusal(p, with(AnswerOptions.newBuilder().setRepetitionPenalty(2.5f))));
        assertEquals("INVALID_ARGUMENT: options.stop takes at most 4 strings, not 5",
                refusal(p, with(AnswerOptions.newBuilder().addAllStop(List.of("a", "b", "c", "d", "e")))));
        assertEquals("INVALID_ARGUMENT: options.stop: each string must have 1..64 characters, not 0", refusal(p, with(AnswerOptions.newBuilder().addStop(""))));
        assertEquals("INVALID_ARGUMENT: options.stop: each string must have 1..64 characters, not 65",
                refusal(p, with(AnswerOptions.newBuilder().addStop("x".repeat(65)))));
        List<String> answers = new ArrayList<>();
        for (int i = 0; i < 33; i++) {
            answers.add("a" + i);
        }
        assertEquals("INVALID_ARGUMENT: options.closed_answers takes at most 32 strings, not 33",
                refusal(p, with(AnswerOptions.newBuilder().addAllClosedAnswers(answers))));
        assertEquals("INVALID_ARGUMENT: options.closed_answers: an answer must not be blank",
                refusal(p, with(AnswerOptions.newBuilder().addClosedAnswers("yes").addClosedAnswers("  "))));
        assertTrue(traces.isEmpty());
        assertEquals(List.of(), calls, "nothing was asked of retrieval or querygen");

        // the largest accepted values pass; a report needs no question
        AnswerResponse ok = run(p, request().setQuestion("").setTask(Task.REPORT_GENERATION).setOptions(AnswerOptions.newBuilder()
                .setReportK(0).setMaxNewTokens(1024).setTemperature(2).setTopP(1).setTopK(1000).setRepetitionPenalty(2)
                .addAllStop(List.of("a", "b", "c", "x".repeat(64))).addAllClosedAnswers(answers.subList(0, 32))).build());
        assertEquals("A pneumothorax.", ok.getAnswer());
        assertEquals("A pneumothorax.", run(p, with(AnswerOptions.newBuilder().setRepetitionPenalty(1).setTemperature(0).setTopP(0)))
                .getAnswer());
        assertEquals("A pneumothorax.", run(p, with(AnswerOptions.newBuilder().setRepetitionPenalty(0))).getAnswer());
    }
}

package io.heterorag.generation.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.heterorag.generation.answer.ExtractiveAnswerer;
import io.heterorag.generation.answer.GenerationMetrics;
import io.heterorag.generation.answer.ServedAnswerer;
import io.heterorag.generation.trace.TracePublisher;
import io.heterorag.proto.v1.AnswerOptions;
import io.heterorag.proto.v1.AnswerRequest;
import io.heterorag.proto.v1.AnswerResponse;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.CorpusQuery;
import io.heterorag.proto.v1.Degradation;
import io.heterorag.proto.v1.GenerateQueriesRequest;
import io.heterorag.proto.v1.GenerateQueriesResponse;
import io.heterorag.proto.v1.KnowledgeHit;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.QueryGenGrpc;
import io.heterorag.proto.v1.RetrievalGrpc;
import io.heterorag.proto.v1.RetrieveReportsRequest;
import io.heterorag.proto.v1.RetrieveReportsResponse;
import io.heterorag.proto.v1.SearchCorpusRequest;
import io.heterorag.proto.v1.SearchCorpusResponse;
import io.heterorag.proto.v1.Task;
import io.heterorag.proto.v1.Trace;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Faults around the pipeline, each against real gRPC servers on loopback: one dependency down at a time
 * (a server answering UNAVAILABLE, or a closed port) still yields an answer flagged in response and trace;
 * bad input from a dependency and the answer stage still fail; searches run at once; retries stay in
 * budget; a burst beyond max-in-flight is refused at once. The answerer is the extractive ranker.
 */
class RagPipelineFaultsTest {

    /** What the fake retrieval does per call (set per test); counts calls by method. */
    final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    volatile Function<RetrieveReportsRequest, RetrieveReportsResponse> reports = r -> RagPipelineFaultsTest.reportsResponse();
    volatile Function<SearchCorpusRequest, SearchCorpusResponse> search = RagPipelineFaultsTest::hits;
    volatile Function<GenerateQueriesRequest, GenerateQueriesResponse> queries = r -> GenerateQueriesResponse.newBuilder()
            .setGenerator("fake-querygen@1").addQueries(CorpusQuery.newBuilder().setCorpus(Corpus.BOOK).setText("pneumothorax"))
            .addQueries(CorpusQuery.newBuilder().setCorpus(Corpus.WIKI).setText("pneumothorax")).build();

    final List<Server> servers = new ArrayList<>();
    final List<ManagedChannel> channels = new ArrayList<>();
    final List<Trace> traces = new CopyOnWriteArrayList<>();
    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path traceBuffer;
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    static RetrieveReportsResponse reportsResponse() {
        return RetrieveReportsResponse.newBuilder().setModality(Modality.RADIOLOGY).setImageEncoder("fake-image@1").setChosenK(1)
                .addReports(io.heterorag.proto.v1.ReportHit.newBuilder().setId("r1").setScore(0.9f)
                        .setText("Chest x ray: large right pneumothorax.")).build();
    }

    static SearchCorpusResponse hits(SearchCorpusRequest r) {
        String c = r.getCorpus().name().toLowerCase();
        return SearchCorpusResponse.newBuilder().setTextEncoder("fake-text@1").addHits(KnowledgeHit.newBuilder().setCorpus(r.getCorpus())
                .setId(c + "-ptx#0").setScore(2f).setTitle("Pneumothorax").setText("Air in the pleural space collapses the lung.")
                .setQuery(r.getQuery())).build();
    }

    private <Q, R> void unary(String name, Q req, StreamObserver<R> out, Function<Q, R> body) {
        calls.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
        try {
            out.onNext(body.apply(req));
            out.onCompleted();
        } catch (StatusRuntimeException e) {
            out.onError(e);
        }
    }

    final class FakeRetrieval extends RetrievalGrpc.RetrievalImplBase {
        @Override
        public void retrieveReports(RetrieveReportsRequest req, StreamObserver<RetrieveReportsResponse> out) {
            unary("reports", req, out, reports);
        }

        @Override
        public void searchCorpus(SearchCorpusRequest req, StreamObserver<SearchCorpusResponse> out) {
            unary("search:" + req.getCorpus(), req, out, search);
        }
    }

    final class FakeQueryGen extends QueryGenGrpc.QueryGenImplBase {
        @Override
        public void generateQueries(GenerateQueriesRequest req, StreamObserver<GenerateQueriesResponse> out) {
            unary("queries", req, out, queries);
        }
    }

    ManagedChannel channelTo(io.grpc.BindableService service) throws IOException {
        Server s = ServerBuilder.forPort(0).addService(service).build().start();
        servers.add(s);
        return channel(s.getPort());
    }

    ManagedChannel channel(int port) {
        ManagedChannel c = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        channels.add(c);
        return c;
    }

    /** A port nothing listens on: connections are refused (UNAVAILABLE). */
    static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    RagPipeline pipeline(ManagedChannel retrieval, ManagedChannel querygen) {
        GenerationMetrics metrics = new GenerationMetrics(registry);
        ServedAnswerer served = new ServedAnswerer(new ExtractiveAnswerer(), (b, ep) -> {
            throw new UnsupportedOperationException();
        }, "cpu", 16, metrics);
        RagPipeline p = new RagPipeline(RetrievalGrpc.newBlockingStub(retrieval), QueryGenGrpc.newBlockingStub(querygen),
                new TracePublisher(new RagPipelineTest.RecordingSender(traces), traceBuffer, 1 << 20, 60_000, registry), registry, served);
        p.defaultDeadlineMs = 10_000;
        p.stageDeadlineMs = 5_000;
        p.maxImageBytes = 1 << 24;
        p.knowledgeCandidates = 10;
        p.knowledgePerQuery = 2;
        return p;
    }

    RagPipeline healthy() throws IOException {
        return pipeline(channelTo(new FakeRetrieval()), channelTo(new FakeQueryGen()));
    }

    static AnswerRequest request() {
        return RagPipelineTest.request(Task.OPEN_VQA, "What does the chest x ray show?").build();
    }

    static AnswerResponse run(RagPipeline p, AnswerRequest req) {
        return p.run(req, e -> {
        }, s -> {
        });
    }

    static List<String> stages(List<Degradation> d) {
        return d.stream().map(Degradation::getStage).toList();
    }

    @AfterEach
    void stop() throws InterruptedException {
        for (ManagedChannel c : channels) {
            c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        for (Server s : servers) {
            s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void withEveryDependencyUpNothingIsDegraded() throws IOException {
        AnswerResponse res = run(healthy(), request());
        assertTrue(res.getDegradedList().isEmpty(), res.getDegradedList().toString());
        assertEquals(Set.of("book-ptx#0", "wiki-ptx#0"), Set.copyOf(res.getKnowledgeList().stream().map(KnowledgeHit::getId).toList()));
        assertEquals(1, res.getReportsCount());
        assertTrue(traces.get(0).getDegradedList().isEmpty());
    }

    @Test
    void reportRepositoryUnavailableAnswersWithoutReportsRetriedWithinTheBudgetAndFlagged() throws IOException {
        reports = r -> {
            throw Status.UNAVAILABLE.withDescription("report index is loading").asRuntimeException();
        };
        RagPipeline p = healthy();
        AnswerResponse res = run(p, request());
        assertFalse(res.getAnswer().isBlank());
        assertEquals(0, res.getReportsCount());
        assertEquals(2, res.getKnowledgeCount(), "knowledge still searched");
        assertEquals(List.of("reports"), stages(res.getDegradedList()));
        assertEquals("UNAVAILABLE: report index is loading", res.getDegraded(0).getReason());
        assertEquals(res.getDegradedList(), traces.get(0).getDegradedList(), "the trace says it too");
        assertEquals(1 + p.retryBudget, calls.get("reports").get(), "first try and the request's retry budget, no more");
        assertEquals(1.0, registry.get("heterorag_degraded_total").tag("stage", "reports").counter().count());
    }

    @Test
    void querygenDownSearchesEveryCorpusWithTheQuestion() throws IOException {
        RagPipeline p = pipeline(channelTo(new FakeRetrieval()), channel(closedPort()));
        AnswerResponse res = run(p, request());
        assertEquals(List.of("queries"), stages(res.getDegradedList()));
        assertTrue(res.getDegraded(0).getReason().startsWith("UNAVAILABLE"), res.getDegraded(0).getReason());
        // every corpus, each with the question as its query
        assertEquals(Set.of(Corpus.RESEARCH, Corpus.WIKI, Corpus.BOOK, Corpus.GUIDELINE, Corpus.GRAPH),
                Set.copyOf(res.getQueriesList().stream().map(CorpusQuery::getCorpus).toList()));
        assertTrue(res.getQueriesList().stream().allMatch(q -> q.getText().equals(request().getQuestion())));
        assertEquals("fallback:question", res.getModels().getQueryGenerator());
        assertEquals(5, res.getKnowledgeCount());
        assertTrue(res.getKnowledgeList().stream().allMatch(k -> k.getQuery().equals(request().getQuestion())));
        // only the asked corpora when the request names them
        AnswerResponse some = run(p, request().toBuilder().setOptions(AnswerOptions.newBuilder().addCorpora(Corpus.GUIDELINE)).build());
        assertEquals(List.of(Corpus.GUIDELINE), some.getQueriesList().stream().map(CorpusQuery::getCorpus).toList());
    }

    @Test
    void aCrashingDependencyBehindErrorShieldLeaksNoExceptionText() throws IOException {
        // querygen as deployed: ErrorShield registered; its handler dies with an Error (the 25 MB question did this)
        queries = r -> {
            throw new OutOfMemoryError("Java heap space");
        };
        Server shielded = ServerBuilder.forPort(0).addService(io.grpc.ServerInterceptors.intercept(new FakeQueryGen(),
                new io.heterorag.guard.ErrorShield())).build().start();
        servers.add(shielded);
        ManagedChannel qg = channel(shielded.getPort());
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> QueryGenGrpc.newBlockingStub(qg).generateQueries(GenerateQueriesRequest.newBuilder().setQuestion("q").build()));
        assertEquals(Status.Code.INTERNAL, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().matches("internal error [0-9a-f]{12} \\(the service's log has the details\\)"),
                e.getStatus().getDescription());
        // through the pipeline: a degraded stage whose reason carries the id, not the error
        AnswerResponse res = run(pipeline(channelTo(new FakeRetrieval()), qg), request());
        assertEquals(List.of("queries"), stages(res.getDegradedList()));
        assertTrue(res.getDegraded(0).getReason().startsWith("INTERNAL: internal error "), res.getDegraded(0).getReason());
        assertFalse(res.getDegraded(0).getReason().contains("OutOfMemory") || res.getDegraded(0).getReason().contains("java."));
    }

    @Test
    void oneCorpusFailingKeepsTheOthers() throws IOException {
        search = r -> {
            if (r.getCorpus() == Corpus.WIKI) {
                throw Status.DEADLINE_EXCEEDED.withDescription("wiki index slow").asRuntimeException();
            }
            return hits(r);
        };
        AnswerResponse res = run(healthy(), request());
        assertEquals(List.of("knowledge:WIKI"), stages(res.getDegradedList()));
        assertEquals(List.of("book-ptx#0"), res.getKnowledgeList().stream().map(KnowledgeHit::getId).toList());
        assertEquals(1, calls.get("search:WIKI").get(), "DEADLINE_EXCEEDED is not retried (the search may have run)");
    }

    @Test
    void retrievalDownAltogetherStillAnswersFromTheQuestionAlone() throws IOException {
        RagPipeline p = pipeline(channel(closedPort()), channelTo(new FakeQueryGen()));
        AnswerResponse res = run(p, request());
        assertEquals(List.of("reports", "knowledge:BOOK", "knowledge:WIKI"), stages(res.getDegradedList()));
        assertEquals(0, res.getReportsCount() + res.getKnowledgeCount());
        assertFalse(res.getTraceId().isBlank());
        assertEquals(1, traces.size());
    }

    @Test
    void searchesForAllCorporaRunAtOnce() throws IOException {
        // each search waits until both have arrived: one after the other, the first would time out
        CountDownLatch both = new CountDownLatch(2);
        search = r -> {
            both.countDown();
            try {
                if (!both.await(3, TimeUnit.SECONDS)) {
                    throw Status.DEADLINE_EXCEEDED.withDescription("searched alone").asRuntimeException();
                }
            } catch (InterruptedException e) {
                throw Status.CANCELLED.asRuntimeException();
            }
            return hits(r);
        };
        AnswerResponse res = run(healthy(), request());
        assertTrue(res.getDegradedList().isEmpty(), res.getDegradedList().toString());
        assertEquals(2, res.getKnowledgeCount());
    }

    @Test
    void badInputFromADependencyAndAFailingAnswerStageStillFail() throws IOException {
        reports = r -> {
            throw Status.INVALID_ARGUMENT.withDescription("image is neither PNG, JPEG nor DICOM").asRuntimeException();
        };
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> run(healthy(), request()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("stage reports: image is neither PNG, JPEG nor DICOM", e.getStatus().getDescription());
        assertTrue(traces.isEmpty());
    }

    @Test
    void aBurstBeyondMaxInFlightIsRefusedAtOnce() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch entered = new CountDownLatch(1);
        reports = r -> {
            entered.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                throw Status.CANCELLED.asRuntimeException();
            }
            return reportsResponse();
        };
        RagPipeline p = healthy();
        p.maxInFlight = 1;
        CompletableFuture<AnswerResponse> first = CompletableFuture.supplyAsync(() -> run(p, request()));
        assertTrue(entered.await(10, TimeUnit.SECONDS));
        assertEquals(1, p.inFlightNow());
        long t0 = System.nanoTime();
        List<Status.Code> burst = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            burst.add(assertThrows(StatusRuntimeException.class, () -> run(p, request())).getStatus().getCode());
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(List.of(Status.Code.RESOURCE_EXHAUSTED, Status.Code.RESOURCE_EXHAUSTED, Status.Code.RESOURCE_EXHAUSTED,
                Status.Code.RESOURCE_EXHAUSTED, Status.Code.RESOURCE_EXHAUSTED), burst);
        assertTrue(ms < 1000, "refused at once, not queued: " + ms + " ms");
        release.countDown();
        assertFalse(first.get(10, TimeUnit.SECONDS).getAnswer().isBlank(), "the call in flight finishes");
        assertEquals(0, p.inFlightNow());
        assertFalse(run(p, request()).getTraceId().isBlank(), "a slot is free again");
        assertEquals(5.0, registry.get("heterorag_overload_rejections_total").counter().count());
    }

    @Test
    void oversizedFieldsAreRefusedNamingTheLimitBeforeAnyCall() throws IOException {
        RagPipeline p = healthy();
        Map<String, AnswerRequest> bad = Map.of(
                "question has 8193 characters, above the limit of 8192 (heterorag.generation.max-question-chars)",
                request().toBuilder().setQuestion("x".repeat(8193)).build(),
                "request_id has 2097152 characters, above the limit of 128 (heterorag.generation.max-request-id-chars)",
                request().toBuilder().setRequestId("r".repeat(2 * 1024 * 1024)).build(),
                "options.report_k is 65, outside 0..64 (heterorag.generation.max-report-k)",
                request().toBuilder().setOptions(AnswerOptions.newBuilder().setReportK(65)).build(),
                "options.deadline_ms is 4294967295, outside 0..600000 (heterorag.generation.max-deadline-ms)",
                request().toBuilder().setOptions(AnswerOptions.newBuilder().setDeadlineMs(-1)).build());
        for (var b : bad.entrySet()) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> run(p, b.getValue()));
            assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
            assertEquals(b.getKey(), e.getStatus().getDescription());
        }
        assertTrue(calls.isEmpty(), "no dependency was called: " + calls);
    }
}

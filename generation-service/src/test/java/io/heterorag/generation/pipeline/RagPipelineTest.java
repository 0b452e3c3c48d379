package io.heterorag.generation.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import javax.imageio.ImageIO;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.heterorag.generation.answer.Answerer;
import io.heterorag.generation.answer.GenerationMetrics;
import io.heterorag.generation.answer.GenerativeAnswerer;
import io.heterorag.generation.answer.ServedAnswerer;
import io.heterorag.generation.grpc.ClinicalRagGrpcService;
import io.heterorag.generation.trace.TracePublisher;
import io.heterorag.model.generation.DecodingOptions;
import io.heterorag.model.generation.Generation;
import io.heterorag.model.generation.GenerationInput;
import io.heterorag.model.generation.Generator;
import io.heterorag.model.generation.OnnxGenerator;
import io.heterorag.model.generation.TinyVlmBundles;
import io.heterorag.proto.v1.AnswerEvent;
import io.heterorag.proto.v1.AnswerOptions;
import io.heterorag.proto.v1.AnswerRequest;
import io.heterorag.proto.v1.AnswerResponse;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.CorpusQuery;
import io.heterorag.proto.v1.GenerateQueriesRequest;
import io.heterorag.proto.v1.GenerateQueriesResponse;
import io.heterorag.proto.v1.Image;
import io.heterorag.proto.v1.KnowledgeHit;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.QueryGenGrpc;
import io.heterorag.proto.v1.ReportHit;
import io.heterorag.proto.v1.RetrievalGrpc;
import io.heterorag.proto.v1.RetrieveReportsRequest;
import io.heterorag.proto.v1.RetrieveReportsResponse;
import io.heterorag.proto.v1.SearchCorpusRequest;
import io.heterorag.proto.v1.SearchCorpusResponse;
import io.heterorag.proto.v1.Task;
import io.heterorag.proto.v1.Trace;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RagPipeline's success path and the answer stage's rules, with the real GenerativeAnswerer over the
 * tiny fixed-weight llava bundle (TinyVlmBundles, ONNX Runtime on CPU). Retrieval and QueryGen are
 * fakes on a loopback gRPC server returning fixed evidence; traces go to a recording sender.
 */
class RagPipelineTest {

    @TempDir
    static Path dir;

    static Server server;
    static ManagedChannel channel;
    static Generator generator;

    /** The fake retrieval's knowledge for a corpus search (set per test). */
    static volatile Function<SearchCorpusRequest, List<KnowledgeHit>> knowledge;

    final List<Trace> traces = new CopyOnWriteArrayList<>();
    @TempDir
    Path traceBuffer;
    SimpleMeterRegistry registry;

    static final List<ReportHit> REPORTS = List.of(
            ReportHit.newBuilder().setId("r1").setScore(0.9f).setText("Chest x ray: large right pneumothorax with mediastinal shift.")
                    .putMetadata("diagnosis", "pneumothorax").build(),
            ReportHit.newBuilder().setId("r2").setScore(0.7f).setText("Normal chest. No acute cardiopulmonary process.").build());

    static KnowledgeHit hit(Corpus corpus, String id, float score, String title, String text) {
        return KnowledgeHit.newBuilder().setCorpus(corpus).setId(id).setScore(score).setTitle(title).setText(text).build();
    }

    /** Two short hits per corpus: one about the question's subject, one unrelated. */
    static List<KnowledgeHit> shortHits(SearchCorpusRequest r) {
        String c = r.getCorpus().name().toLowerCase();
        return List.of(hit(r.getCorpus(), c + "-ptx#0", 2f, "Pneumothorax", "Air in the pleural space collapses the lung."),
                hit(r.getCorpus(), c + "-cyst#0", 1f, "Renal cyst", "A fluid filled sac in the kidney, usually benign."));
    }

    static final class FakeRetrieval extends RetrievalGrpc.RetrievalImplBase {
        @Override
        public void retrieveReports(RetrieveReportsRequest req, StreamObserver<RetrieveReportsResponse> out) {
            out.onNext(RetrieveReportsResponse.newBuilder().addAllReports(REPORTS).setModality(Modality.RADIOLOGY)
                    .setImageEncoder("fake-image-encoder@1").setChosenK(2).build());
            out.onCompleted();
        }

        @Override
        public void searchCorpus(SearchCorpusRequest req, StreamObserver<SearchCorpusResponse> out) {
            out.onNext(SearchCorpusResponse.newBuilder().addAllHits(knowledge.apply(req)).setTextEncoder("fake-text-encoder@1").build());
            out.onCompleted();
        }
    }

    static final class FakeQueryGen extends QueryGenGrpc.QueryGenImplBase {
        @Override
        public void generateQueries(GenerateQueriesRequest req, StreamObserver<GenerateQueriesResponse> out) {
            out.onNext(GenerateQueriesResponse.newBuilder().setGenerator("fake-querygen@1")
                    .addQueries(CorpusQuery.newBuilder().setCorpus(Corpus.BOOK).setText("pneumothorax"))
                    .addQueries(CorpusQuery.newBuilder().setCorpus(Corpus.WIKI).setText("pneumothorax")).build());
            out.onCompleted();
        }
    }

    @BeforeAll
    static void start() throws IOException {
        generator = ServedAnswerer.onnx(1, OnnxGenerator.Batching.DEFAULT).load(TinyVlmBundles.llava(dir.resolve("tiny-llava")), "cpu");
        server = ServerBuilder.forPort(0).addService(new FakeRetrieval()).addService(new FakeQueryGen()).build().start();
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        generator.close();
    }

    @BeforeEach
    void reset() {
        knowledge = RagPipelineTest::shortHits;
        registry = new SimpleMeterRegistry();
    }

    RagPipeline pipeline(Generator g) {
        GenerationMetrics metrics = new GenerationMetrics(registry);
        ServedAnswerer served = new ServedAnswerer(new GenerativeAnswerer(g, 16, metrics), (b, ep) -> {
            throw new UnsupportedOperationException();
        }, "cpu", 16, metrics);
        RagPipeline p = new RagPipeline(RetrievalGrpc.newBlockingStub(channel), QueryGenGrpc.newBlockingStub(channel),
                new TracePublisher(new RecordingSender(traces), traceBuffer, 1 << 20, 60_000, registry), registry, served);
        p.defaultDeadlineMs = 30_000;
        p.stageDeadlineMs = 10_000;
        p.maxImageBytes = 1 << 24;
        p.knowledgeCandidates = 10;
        p.knowledgePerQuery = 2;
        return p;
    }

    static AnswerRequest.Builder request(Task task, String question) {
        return AnswerRequest.newBuilder().setRequestId("req-1").setTask(task).setQuestion(question).setImage(png());
    }

    static AnswerResponse run(RagPipeline p, AnswerRequest req, List<Answerer.Segment> segments) {
        return p.run(req, e -> {
        }, segments::add);
    }

    /** Ids of the evidence that was in the prompt: reports are dropped first, then knowledge from the bottom. */
    static Set<String> kept(AnswerResponse res) {
        int droppedReports = Math.min(res.getEvidenceDropped(), res.getReportsCount());
        int droppedKnowledge = res.getEvidenceDropped() - droppedReports;
        return Stream.concat(res.getKnowledgeList().subList(0, res.getKnowledgeCount() - droppedKnowledge).stream().map(KnowledgeHit::getId),
                res.getReportsList().subList(0, res.getReportsCount() - droppedReports).stream().map(ReportHit::getId))
                .collect(Collectors.toSet());
    }

    @Test
    void aClosedQuestionIsAnsweredWithAnAllowedAnswerCitingTheKeptEvidenceAndTraced() {
        RagPipeline p = pipeline(generator);
        List<Answerer.Segment> segments = new ArrayList<>();
        AnswerResponse res = run(p, request(Task.CLOSED_VQA, "Is there a pneumothorax in the right lung?").build(), segments);

        assertTrue(Set.of("yes", "no").contains(res.getAnswer()), res.getAnswer());
        assertEquals("closed", res.getFinishReason());
        assertEquals("tiny-vlm@test", res.getModels().getAnswerer());
        assertTrue(res.getGeneratedTokens() >= 1 && res.getPromptTokens() > 0, res.toString());
        assertTrue(res.getPromptTokens() + res.getGeneratedTokens() <= generator.contextLength());
        assertEquals(4, res.getKnowledgeCount());
        // a yes/no answer cites the kept evidence about what was asked (pneumothorax, right, lung), not the renal cyst
        Set<String> kept = kept(res);
        List<String> cited = res.getCandidates(0).getEvidenceIdsList();
        assertTrue(kept.containsAll(cited), cited + " not all in " + kept);
        assertTrue(cited.contains("book-ptx#0"), cited.toString());
        assertTrue(cited.stream().noneMatch(id -> id.contains("cyst")), cited.toString());
        assertEquals(List.of(new Answerer.Segment(res.getAnswer(), cited)), segments, "a closed answer is one segment");

        assertEquals(1, traces.size());
        Trace t = traces.get(0);
        assertEquals(res.getTraceId(), t.getTraceId());
        assertEquals("tiny-vlm@test", t.getModels().getAnswerer());
        assertEquals(res.getAnswer(), t.getAnswer());

        AnswerResponse leftRight = run(p, request(Task.CLOSED_VQA, "Which side is the pneumothorax on?")
                .setOptions(AnswerOptions.newBuilder().addClosedAnswers("left").addClosedAnswers("right")).build(), new ArrayList<>());
        assertTrue(Set.of("left", "right").contains(leftRight.getAnswer()), leftRight.getAnswer());
    }

    @Test
    void anOpenAnswerStreamsEvidenceThenSegmentsThenTheResponse() {
        List<AnswerEvent> events = new CopyOnWriteArrayList<>();
        CompletableFuture<Throwable> ended = new CompletableFuture<>();
        new ClinicalRagGrpcService(pipeline(generator)).streamAnswer(request(Task.OPEN_VQA, "What abnormality is seen in the chest?")
                .setOptions(AnswerOptions.newBuilder().setMaxNewTokens(12)).build(), recorder(events, ended));
        assertEquals(null, ended.join());

        assertTrue(events.size() >= 3, events.toString());
        assertTrue(events.get(0).hasEvidence());
        AnswerResponse done = events.get(events.size() - 1).getDone();
        List<AnswerEvent> middle = events.subList(1, events.size() - 1);
        assertTrue(middle.stream().allMatch(AnswerEvent::hasSegment), "only segments between the evidence and the response");
        assertEquals(done.getAnswer(), middle.stream().map(e -> e.getSegment().getText()).collect(Collectors.joining()));
        assertFalse(done.getAnswer().isBlank());
        assertTrue(done.getGeneratedTokens() > 0 && done.getGeneratedTokens() <= 12, done.toString());
        assertTrue(Set.of("eos", "length", "stop").contains(done.getFinishReason()), done.getFinishReason());
        Set<String> kept = kept(done);
        middle.forEach(e -> assertTrue(kept.containsAll(e.getSegment().getCitationsList()), e.toString()));

        assertEquals(1, registry.get("heterorag_generation_ttft_seconds").timer().count());
        assertEquals(done.getGeneratedTokens(), registry.get("heterorag_generation_tokens").tag("kind", "generated").counter().count());
        assertEquals(0, registry.get("heterorag_generation_requests_decoding").gauge().value());
    }

    @Test
    void evidenceThatDoesNotFitIsDroppedLowestFirstAndTheQuestionIsNeverCut() {
        String longText = "The lung shows a focal opacity with pleural effusion and mediastinal shift. ".repeat(2);
        knowledge = r -> List.of(hit(r.getCorpus(), r.getCorpus().name() + "-1#0", 2f, "Pneumothorax", longText),
                hit(r.getCorpus(), r.getCorpus().name() + "-2#0", 1f, "Effusion", longText));
        RagPipeline p = pipeline(generator);
        AnswerResponse res = run(p, request(Task.OPEN_VQA, "What abnormality is seen in the chest?").build(), new ArrayList<>());
        int evidence = res.getKnowledgeCount() + res.getReportsCount();
        assertTrue(res.getEvidenceDropped() > res.getReportsCount() && res.getEvidenceDropped() < evidence,
                res.getEvidenceDropped() + " of " + evidence + " dropped: the reports and some knowledge should go, not all");
        assertTrue(res.getPromptTokens() + 16 <= generator.contextLength(), "prompt of " + res.getPromptTokens() + " tokens");
        assertTrue(res.getGeneratedTokens() > 0);

        // a question that fits only alone: all evidence goes, the question stays whole
        String longQuestion = "Is the " + "large ".repeat(60) + "opacity in the left lung?";
        AnswerResponse alone = run(p, request(Task.CLOSED_VQA, longQuestion).build(), new ArrayList<>());
        assertEquals(alone.getKnowledgeCount() + alone.getReportsCount(), alone.getEvidenceDropped());
        assertTrue(alone.getPromptTokens() > 60, "the whole question is in the prompt: " + alone.getPromptTokens());
        assertTrue(alone.getCandidates(0).getEvidenceIdsList().isEmpty(), "nothing kept, nothing cited");

        String tooLong = "Is the " + "large ".repeat(200) + "opacity in the left lung?";
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> run(p, request(Task.CLOSED_VQA, tooLong).build(), new ArrayList<>()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().startsWith("stage answer: the question does not fit"), e.getStatus().getDescription());
    }

    @Test
    void evidenceOnlyReturnsTheEvidenceWithoutAnAnswerOrATrace() {
        AnswerResponse res = run(pipeline(generator), request(Task.OPEN_VQA, "What abnormality is seen in the chest?")
                .setOptions(AnswerOptions.newBuilder().setEvidenceOnly(true)).build(), new ArrayList<>());
        assertEquals(4, res.getKnowledgeCount());
        assertEquals(2, res.getReportsCount());
        assertEquals("", res.getAnswer());
        assertEquals("", res.getTraceId());
        assertEquals(0, res.getGeneratedTokens());
        assertEquals("tiny-vlm@test", res.getModels().getAnswerer());
        assertTrue(traces.isEmpty());
    }

    @Test
    void withoutRetrievalTheAnswerComesFromTheImageAndQuestionAlone() {
        AnswerResponse res = run(pipeline(generator), request(Task.CLOSED_VQA, "Is there a pleural effusion?")
                .setOptions(AnswerOptions.newBuilder().setSkipReports(true).setSkipKnowledge(true)).build(), new ArrayList<>());
        assertEquals(0, res.getKnowledgeCount());
        assertEquals(0, res.getReportsCount());
        assertEquals(0, res.getQueriesCount());
        assertTrue(List.of("yes", "no").contains(res.getAnswer()), res.getAnswer());
        assertTrue(res.getLatenciesList().stream().noneMatch(l -> l.getStage().equals("knowledge") || l.getStage().equals("queries")));
    }

    @Test
    void aDeadlinePassingDuringGenerationEndsTheStreamWithDeadlineExceededNamingTheAnswerStage() {
        // the real generator, made slow (70 ms a piece of text), as a large model on a busy CPU would be
        Generator slow = new Slowed(generator, 70);
        RagPipeline p = pipeline(slow);
        run(p, request(Task.OPEN_VQA, "warm up").setOptions(AnswerOptions.newBuilder().setEvidenceOnly(true)).build(), new ArrayList<>());

        List<AnswerEvent> events = new CopyOnWriteArrayList<>();
        CompletableFuture<Throwable> ended = new CompletableFuture<>();
        long t0 = System.nanoTime();
        new ClinicalRagGrpcService(p).streamAnswer(request(Task.OPEN_VQA, "What abnormality is seen in the chest?")
                .setOptions(AnswerOptions.newBuilder().setMaxNewTokens(16).setDeadlineMs(500)).build(), recorder(events, ended));
        Throwable error = ended.join();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(error instanceof StatusRuntimeException, String.valueOf(error));
        Status s = ((StatusRuntimeException) error).getStatus();
        assertEquals(Status.Code.DEADLINE_EXCEEDED, s.getCode());
        assertTrue(s.getDescription().startsWith("stage answer: the request's deadline passed during generation"), s.getDescription());
        assertTrue(ms < 500 + 3 * 70 + 200, "generation was not aborted at the deadline: " + ms + " ms");
        assertTrue(events.get(0).hasEvidence());
        assertTrue(events.stream().noneMatch(AnswerEvent::hasDone));
        assertTrue(traces.isEmpty(), "an unanswered request is not traced");
        assertEquals(0, registry.get("heterorag_generation_requests_waiting").gauge().value()
                + registry.get("heterorag_generation_requests_decoding").gauge().value(), "the aborted request left the generator");
    }

    static StreamObserver<AnswerEvent> recorder(List<AnswerEvent> events, CompletableFuture<Throwable> ended) {
        return new StreamObserver<>() {
            @Override
            public void onNext(AnswerEvent e) {
                events.add(e);
            }

            @Override
            public void onError(Throwable t) {
                ended.complete(t);
            }

            @Override
            public void onCompleted() {
                ended.complete(null);
            }
        };
    }

    static Image png() {
        BufferedImage img = new BufferedImage(48, 48, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.DARK_GRAY);
        g.fillRect(0, 0, 48, 48);
        g.setColor(Color.WHITE);
        g.fillOval(8, 10, 20, 28);
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", out);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return Image.newBuilder().setMediaType("image/png").setData(ByteString.copyFrom(out.toByteArray())).build();
    }

    /** Delays each piece of text of a real generator. */
    record Slowed(Generator delegate, long millisPerPiece) implements Generator {
        @Override
        public Generation generate(GenerationInput input, DecodingOptions options, Consumer<String> onText) {
            return delegate.generate(input, options, text -> {
                try {
                    Thread.sleep(millisPerPiece);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", e);
                }
                onText.accept(text);
            });
        }

        public String id() {
            return delegate.id();
        }

        public String family() {
            return delegate.family();
        }

        public int contextLength() {
            return delegate.contextLength();
        }

        public int countTokens(String text) {
            return delegate.countTokens(text);
        }

        public int overheadTokens(GenerationInput input) {
            return delegate.overheadTokens(input);
        }

        public double logProb(GenerationInput input, String response) {
            return delegate.logProb(input, response);
        }

        public void close() {
        }
    }

    /** Records the traces the publisher sends (parsed back from their bytes). */
    record RecordingSender(List<Trace> traces) implements TracePublisher.Sender {
        @Override
        public CompletionStage<Void> send(String traceId, byte[] trace) {
            try {
                traces.add(Trace.parseFrom(trace));
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException(e);
            }
            return CompletableFuture.completedFuture(null);
        }
    }
}

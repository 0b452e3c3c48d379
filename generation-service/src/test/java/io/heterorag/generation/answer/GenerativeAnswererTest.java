package io.heterorag.generation.answer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.heterorag.model.generation.DecodingOptions;
import io.heterorag.model.generation.Generation;
import io.heterorag.model.generation.GenerationInput;
import io.heterorag.model.generation.Generator;
import io.heterorag.proto.v1.AnswerOptions;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.Image;
import io.heterorag.proto.v1.KnowledgeHit;
import io.heterorag.proto.v1.ReportHit;
import io.heterorag.proto.v1.Task;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

/**
 * The answerer's own rules, with a scripted generator (whitespace-separated words are tokens; it
 * streams a fixed text in fixed pieces): segments end at word boundaries and cite the evidence
 * they share a content word with; decoding options are passed through; a deadline that passes
 * while the request waits for its first token, or a cancellation by the caller, wakes it. The real model is used in RagPipelineTest.
 */
class GenerativeAnswererTest {

    /** Streams {@code pieces}; or, when {@code pieces} is null, waits (as if queued) until interrupted. */
    static class Scripted implements Generator {
        final List<String> pieces;
        final String finish;
        DecodingOptions seen;
        GenerationInput input;

        Scripted(List<String> pieces, String finish) {
            this.pieces = pieces;
            this.finish = finish;
        }

        public String id() {
            return "scripted@1";
        }

        public String family() {
            return "llava";
        }

        public int contextLength() {
            return 200;
        }

        public int countTokens(String text) {
            return text.isBlank() ? 0 : text.strip().split("\\s+").length;
        }

        public int overheadTokens(GenerationInput input) {
            return 2;
        }

        public Generation generate(GenerationInput input, DecodingOptions options, Consumer<String> onText) {
            this.seen = options;
            this.input = input;
            if (pieces == null) {
                try {
                    Thread.sleep(10_000);
                    throw new AssertionError("not woken");
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.util.concurrent.CancellationException("generation interrupted");
                }
            }
            pieces.forEach(onText);
            String text = String.join("", pieces);
            return new Generation(text, new int[pieces.size()], countTokens(input.prompt()) + 2, finish, 1_000, 5_000);
        }

        public double logProb(GenerationInput input, String response) {
            return 0;
        }

        public void close() {
        }
    }

    static final List<KnowledgeHit> KNOWLEDGE = List.of(
            KnowledgeHit.newBuilder().setCorpus(Corpus.BOOK).setId("k1#0").setScore(2f).setTitle("Pneumothorax")
                    .setText("Air in the pleural space collapses the lung.").build(),
            KnowledgeHit.newBuilder().setCorpus(Corpus.WIKI).setId("k2#0").setScore(1f).setTitle("Renal cyst")
                    .setText("A fluid filled sac in the kidney.").build());
    static final List<ReportHit> REPORTS = List.of(ReportHit.newBuilder().setId("r1").setScore(0.5f)
            .setText("Right pneumothorax with mediastinal shift.").build());

    static Answerer.Question question(Task task, String q, AnswerOptions options) {
        return new Answerer.Question(task, q, options, Image.getDefaultInstance(), REPORTS, KNOWLEDGE);
    }

    @Test
    void segmentsEndAtWordBoundariesAndCiteTheEvidenceTheyShareAWordWith() {
        Scripted g = new Scripted(List.of("A ri", "ght pneu", "mothorax", " and a ", "kid", "ney cyst."), "eos");
        GenerativeAnswerer a = new GenerativeAnswerer(g, 20, new GenerationMetrics(new SimpleMeterRegistry()));
        List<Answerer.Segment> segments = new ArrayList<>();
        Answerer.Answer answer = a.answer(question(Task.OPEN_VQA, "What is seen?", AnswerOptions.newBuilder().setTemperature(0.7f)
                .setTopK(5).setSeed(42).addStop("\n").build()), Deadline.after(10, TimeUnit.SECONDS), segments::add);

        assertEquals(List.of(
                new Answerer.Segment("A right ", List.of("r1")), // "right": the report only
                new Answerer.Segment("pneumothorax and a ", List.of("k1#0", "r1")),
                new Answerer.Segment("kidney cyst.", List.of("k2#0"))), segments);
        assertEquals("A right pneumothorax and a kidney cyst.", answer.text());
        assertEquals(List.of("k1#0", "k2#0", "r1"), answer.candidates().get(0).getEvidenceIdsList());
        assertEquals(3.5f, answer.candidates().get(0).getScore(), 1e-6, "support: the cited evidence's scores");
        assertEquals("eos", answer.finishReason());
        assertEquals(6, answer.generatedTokens());
        assertEquals(0, answer.evidenceDropped());
        assertEquals(new DecodingOptions(20, 0.7f, 1f, 5, 42, 1f, List.of("\n"), List.of()), g.seen, "top_p 0 and penalty 0 mean off");
        assertEquals(null, g.input.image(), "no image bytes: a text-only request");
        assertTrue(g.input.prompt().contains("[1] Pneumothorax: Air in the pleural space") && g.input.prompt().contains("[R1] Right"),
                "knowledge as 'title: text', reports for reference");
    }

    @Test
    void aClosedQuestionIsConstrainedToItsAnswersAndCitesThroughTheQuestion() {
        Scripted g = new Scripted(List.of("ye", "s"), "closed");
        GenerativeAnswerer a = new GenerativeAnswerer(g, 20, new GenerationMetrics(new SimpleMeterRegistry()));
        List<Answerer.Segment> segments = new ArrayList<>();
        Answerer.Answer answer = a.answer(question(Task.CLOSED_VQA, "Is the kidney cyst benign?", AnswerOptions.getDefaultInstance()),
                Deadline.after(10, TimeUnit.SECONDS), segments::add);
        assertEquals(List.of("yes", "no"), g.seen.choices());
        assertEquals(2, g.seen.maxNewTokens(), "the longest answer plus the end token");
        assertEquals(List.of(new Answerer.Segment("yes", List.of("k2#0"))), segments);
        assertTrue(g.input.prompt().startsWith("Answer the question with one of: yes, no."));
    }

    @Test
    void evidenceGoesBeforeTheQuestionWhenTheContextIsShort() {
        Scripted g = new Scripted(List.of("no"), "closed");
        GenerativeAnswerer a = new GenerativeAnswerer(g, 20, new GenerationMetrics(new SimpleMeterRegistry()));
        // context 200 - 2 overhead - 2 answer = 196 words of prompt
        String q = "Is there " + "fluid ".repeat(170) + "?";
        Answerer.Answer answer = a.answer(question(Task.CLOSED_VQA, q, AnswerOptions.getDefaultInstance()),
                Deadline.after(10, TimeUnit.SECONDS), s -> {
                });
        assertEquals(2, answer.evidenceDropped(), "the report, then the lower knowledge hit");
        assertTrue(g.input.prompt().contains(q.strip()) && g.input.prompt().contains("[1] Pneumothorax"));
        assertFalse(g.input.prompt().contains("Renal cyst"));

        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> a.answer(question(Task.OPEN_VQA,
                "What " + "fluid ".repeat(150) + "?", AnswerOptions.newBuilder().setMaxNewTokens(100).build()),
                Deadline.after(10, TimeUnit.SECONDS), s -> {
                }));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("a smaller options.max_new_tokens leaves more"), e.getStatus().getDescription());
    }

    @Test
    void aDeadlineThatPassesBeforeTheFirstTokenWakesTheWaitingRequest() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        GenerationMetrics metrics = new GenerationMetrics(registry);
        GenerativeAnswerer a = new GenerativeAnswerer(new Scripted(null, "eos"), 20, metrics);
        long t0 = System.nanoTime();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> a.answer(question(Task.OPEN_VQA, "What is seen?",
                AnswerOptions.getDefaultInstance()), Deadline.after(200, TimeUnit.MILLISECONDS), s -> {
                }));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
        assertTrue(ms < 2_000, ms + " ms");
        assertFalse(Thread.currentThread().isInterrupted(), "the wake-up interrupt does not leak to the caller's thread");
        assertEquals(0, metrics.waiting());
    }

    @Test
    void aCallerThatCancelsAbortsTheGeneration() throws Exception {
        GenerationMetrics metrics = new GenerationMetrics(new SimpleMeterRegistry());
        GenerativeAnswerer a = new GenerativeAnswerer(new Scripted(null, "eos"), 20, metrics);
        Context.CancellableContext call = Context.current().withCancellation();
        ScheduledExecutorService canceller = Executors.newSingleThreadScheduledExecutor();
        canceller.schedule(() -> call.cancel(null), 150, TimeUnit.MILLISECONDS);
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> call.call(() -> a.answer(question(Task.OPEN_VQA,
                "What is seen?", AnswerOptions.getDefaultInstance()), Deadline.after(10, TimeUnit.SECONDS), s -> {
                })));
        canceller.shutdown();
        assertEquals(Status.Code.CANCELLED, e.getStatus().getCode());
        assertFalse(Thread.currentThread().isInterrupted());
        assertEquals(0, metrics.waiting());
    }
}

package io.heterorag.generation.answer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import com.google.protobuf.ByteString;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.heterorag.model.generation.DecodingOptions;
import io.heterorag.model.generation.Generation;
import io.heterorag.model.generation.GenerationInput;
import io.heterorag.model.generation.Generator;
import io.heterorag.model.generation.RagPrompt;
import io.heterorag.proto.v1.AnswerOptions;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.Image;
import io.heterorag.proto.v1.KnowledgeHit;
import io.heterorag.proto.v1.RankedAnswer;
import io.heterorag.proto.v1.ReportHit;
import io.heterorag.proto.v1.Task;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

/**
 * The answer stage's arithmetic and mapping with a recording generator (a fake of the one seam this
 * class calls): the answer budget, the prompt budget, the decoding options handed on, the response
 * fields, and how generator failures become statuses. Real generation is in GenerativeAnswererTest.
 */
class GenerativeAnswererRulesTest {

    /** Tokens = words; 5 tokens of overhead; answers with fixed pieces of text. */
    static final class Recording implements Generator {
        final int context;
        final List<String> pieces;
        final List<GenerationInput> inputs = new ArrayList<>();
        final List<DecodingOptions> options = new ArrayList<>();
        RuntimeException failure;
        boolean closed;

        Recording(int context, String... pieces) {
            this.context = context;
            this.pieces = List.of(pieces);
        }

        public String id() {
            return "recording@1";
        }

        public String family() {
            return "llava";
        }

        public int contextLength() {
            return context;
        }

        public int countTokens(String text) {
            return text.isBlank() ? 0 : text.strip().split("\\s+").length;
        }

        public int overheadTokens(GenerationInput input) {
            return 5;
        }

        public Generation generate(GenerationInput input, DecodingOptions o, Consumer<String> onText) {
            inputs.add(input);
            options.add(o);
            if (failure != null) {
                throw failure;
            }
            pieces.forEach(onText);
            return new Generation(String.join("", pieces), new int[] {7, 8, 9}, 11, "eos", 1, 2);
        }

        public double logProb(GenerationInput input, String response) {
            throw new UnsupportedOperationException();
        }

        public void close() {
            closed = true;
        }
    }

    static final List<KnowledgeHit> KNOWLEDGE = List.of(
            KnowledgeHit.newBuilder().setCorpus(Corpus.BOOK).setId("k1").setScore(0.75f).setTitle("Pneumothorax").setText("air collapses lung").build(),
            KnowledgeHit.newBuilder().setCorpus(Corpus.WIKI).setId("k2").setScore(0.5f).setTitle("Effusion").setText("fluid").build());
    static final List<ReportHit> REPORTS = List.of(ReportHit.newBuilder().setId("r1").setScore(0.25f).setText("right pneumothorax").build());

    static Answerer.Question question(Task task, String q, AnswerOptions o) {
        return new Answerer.Question(task, q, o, Image.getDefaultInstance(), REPORTS, KNOWLEDGE);
    }

    static GenerativeAnswerer answerer(Generator g, int defaultMaxNew) {
        return new GenerativeAnswerer(g, defaultMaxNew, new GenerationMetrics(new SimpleMeterRegistry()));
    }

    static Deadline later() {
        return Deadline.after(30, TimeUnit.SECONDS);
    }

    @Test
    void anOpenAnswerTakesTheRequestedBudgetElseTheDefaultAndHandsOnTheDecodingOptions() {
        Recording g = new Recording(200, "A right ", "pneumothorax.");
        AnswerOptions o = AnswerOptions.newBuilder().setMaxNewTokens(9).setTemperature(0.7f).setTopK(5).setSeed(42).addStop("\n").build();
        List<Answerer.Segment> segments = new ArrayList<>();
        Answerer.Answer a = answerer(g, 16).answer(question(Task.OPEN_VQA, "What is seen?", o), later(), segments::add);
        DecodingOptions d = g.options.get(0);
        assertEquals(new DecodingOptions(9, 0.7f, 1f, 5, 42, 1f, List.of("\n"), List.of()), d, "top_p 0 and penalty 0 mean off");
        assertEquals(new RagPrompt("open_vqa", "What is seen?", List.of(), List.of("Pneumothorax: air collapses lung", "Effusion: fluid"),
                List.of("right pneumothorax")).render(), g.inputs.get(0).prompt());
        assertEquals(null, g.inputs.get(0).image(), "no image data: a text-only request");

        assertEquals("A right pneumothorax.", a.text());
        assertEquals("eos", a.finishReason());
        assertEquals(11, a.promptTokens());
        assertEquals(3, a.generatedTokens());
        assertEquals(0, a.evidenceDropped());
        // the answer's words name k1 and r1: its score is their summed support 0.75 + 0.25
        assertEquals(List.of(RankedAnswer.newBuilder().setText("A right pneumothorax.").setScore(1f).addEvidenceIds("k1")
                .addEvidenceIds("r1").build()), a.candidates());
        assertEquals(a.segments(), segments);
        assertEquals("A right pneumothorax.", String.join("", segments.stream().map(Answerer.Segment::text).toList()));

        answerer(g, 16).answer(question(Task.OPEN_VQA, "What is seen?", AnswerOptions.newBuilder().setTopP(0.9f)
                .setRepetitionPenalty(1.3f).build()), later(), s -> {
                });
        assertEquals(new DecodingOptions(16, 0f, 0.9f, 0, 0, 1.3f, List.of(), List.of()), g.options.get(1));
    }

    @Test
    void aClosedAnswerNeedsItsLongestChoicePlusTheEndToken() {
        Recording g = new Recording(200, "yes");
        answerer(g, 16).answer(question(Task.CLOSED_VQA, "Is there a pneumothorax?", AnswerOptions.newBuilder().setMaxNewTokens(50).build()),
                later(), s -> {
                });
        assertEquals(2, g.options.get(0).maxNewTokens(), "yes or no: 1 token, plus the end token");
        assertEquals(List.of("yes", "no"), g.options.get(0).choices());
        answerer(g, 16).answer(question(Task.CLOSED_VQA, "Which side?", AnswerOptions.newBuilder().addClosedAnswers("left side")
                .addClosedAnswers("the right side").build()), later(), s -> {
                });
        assertEquals(4, g.options.get(1).maxNewTokens(), "three words, plus the end token");
        assertEquals(List.of("left side", "the right side"), g.options.get(1).choices());
    }

    @Test
    void thePromptGetsWhatIsLeftAfterTheImageTheSpecialTokensAndTheAnswer() {
        RagPrompt full = new RagPrompt("open_vqa", "What is seen?", List.of(), List.of("Pneumothorax: air collapses lung", "Effusion: fluid"),
                List.of("right pneumothorax"));
        int tokens = new Recording(0).countTokens(full.render());
        // context = prompt + 5 overhead + 10 answer: everything fits; one token less drops the report
        Recording exact = new Recording(tokens + 5 + 10, "x");
        assertEquals(0, answerer(exact, 10).answer(question(Task.OPEN_VQA, "What is seen?", AnswerOptions.getDefaultInstance()), later(), s -> {
        }).evidenceDropped());
        Recording less = new Recording(tokens + 5 + 10 - 1, "x");
        Answerer.Answer a = answerer(less, 10).answer(question(Task.OPEN_VQA, "What is seen?", AnswerOptions.getDefaultInstance()), later(),
                s -> {
                });
        assertEquals(1, a.evidenceDropped());
        assertEquals(full.render(2, 0), less.inputs.get(0).prompt());

        int bare = new Recording(0).countTokens(full.render(0, 0));
        Recording tiny = new Recording(bare + 5 + 10 - 1, "x");
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> answerer(tiny, 10).answer(
                question(Task.OPEN_VQA, "What is seen?", AnswerOptions.getDefaultInstance()), later(), s -> {
                }));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("the question does not fit the generator's context: the prompt without evidence takes " + bare + " tokens, "
                + (bare - 1) + " are left for it (context " + (bare + 14) + ", image and special tokens 5, answer 10; a smaller "
                + "options.max_new_tokens leaves more)", e.getStatus().getDescription());
        Recording none = new Recording(6, "x"); // 6 - 5 - 2 < 0: nothing left
        StatusRuntimeException closed = assertThrows(StatusRuntimeException.class, () -> answerer(none, 10).answer(
                question(Task.CLOSED_VQA, "Is there a large pneumothorax?", AnswerOptions.getDefaultInstance()), later(), s -> {
                }));
        assertTrue(closed.getStatus().getDescription().endsWith(", 0 are left for it (context 6, image and special tokens 5, answer 2)"),
                closed.getStatus().getDescription());
    }

    @Test
    void aBlankAnswerHasNoCandidateAndGeneratorFailuresBecomeStatuses() {
        Answerer.Answer blank = answerer(new Recording(200, "  "), 8).answer(question(Task.OPEN_VQA, "What?", AnswerOptions.getDefaultInstance()),
                later(), s -> {
                });
        assertEquals(List.of(), blank.candidates());

        Recording bad = new Recording(200);
        bad.failure = new IllegalArgumentException("prompt has an unknown token");
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> answerer(bad, 8).answer(
                question(Task.OPEN_VQA, "What?", AnswerOptions.getDefaultInstance()), later(), s -> {
                }));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("prompt has an unknown token", e.getStatus().getDescription());
        IllegalStateException broken = new IllegalStateException("session closed");
        bad.failure = broken;
        assertSame(broken, assertThrows(IllegalStateException.class, () -> answerer(bad, 8).answer(
                question(Task.OPEN_VQA, "What?", AnswerOptions.getDefaultInstance()), later(), s -> {
                })));

        Answerer.Question badImage = new Answerer.Question(Task.OPEN_VQA, "What?", AnswerOptions.getDefaultInstance(),
                Image.newBuilder().setData(ByteString.copyFromUtf8("not an image")).build(), List.of(), List.of());
        assertEquals(Status.Code.INVALID_ARGUMENT, assertThrows(StatusRuntimeException.class,
                () -> answerer(new Recording(200, "x"), 8).answer(badImage, later(), s -> {
                })).getStatus().getCode());
    }

    @Test
    void theAnswererIsItsGenerator() {
        assertThrows(IllegalArgumentException.class, () -> answerer(new Recording(10), 0));
        Recording g = new Recording(10);
        GenerativeAnswerer a = answerer(g, 1);
        assertEquals("recording@1", a.id());
        assertSame(g, a.generator());
        a.close();
        assertTrue(g.closed);
    }

    @Test
    void evidenceIsCitedOnlyForTheTextThePromptShowed() {
        // "effusion" after the 400th character of a report is clipped from the prompt: not cited for it
        ReportHit longReport = ReportHit.newBuilder().setId("long").setScore(1f).setText("x".repeat(RagPrompt.MAX_ITEM_CHARS) + " effusion").build();
        ReportHit exact = ReportHit.newBuilder().setId("exact").setScore(1f).setText("y".repeat(RagPrompt.MAX_ITEM_CHARS - 9) + " effusion").build();
        Answerer.Question q = new Answerer.Question(Task.OPEN_VQA, "What?", AnswerOptions.getDefaultInstance(), Image.getDefaultInstance(),
                List.of(longReport, exact), List.of());
        Answerer.Answer a = answerer(new Recording(500, "effusion"), 8).answer(q, later(), s -> {
        });
        assertEquals(List.of("exact"), a.candidates().get(0).getEvidenceIdsList());
    }
}

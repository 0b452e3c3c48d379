package io.heterorag.tuning.preference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import javax.imageio.ImageIO;

import io.heterorag.model.generation.DecodingOptions;
import io.heterorag.model.generation.Generation;
import io.heterorag.model.generation.GenerationInput;
import io.heterorag.model.generation.Generator;
import io.heterorag.model.generation.RagPrompt;
import io.heterorag.tuning.preference.LabelledExamples.Labelled;
import io.heterorag.tuning.training.GeneratorExamples.Example;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pair builder's limits and arithmetic: the prompt budget (context − image overhead − answer
 * budget) at its boundary, which evidence parts are ablated (only those the fitted prompt held: each
 * ablation is a generator call), the decoding options, the least similar image by cosine, progress
 * every 50 examples, and a generator's failure passed on as it is.
 */
class PairBuilderRulesTest {

    static final int OVERHEAD = 4;
    static final int ANSWER_BUDGET = 8;

    @TempDir
    Path dir;

    /** Answers "yes" unless the prompt holds TRAP; counts its calls; its context length is the test's. */
    static final class CountingGenerator implements Generator {
        final int context;
        final AtomicInteger calls = new AtomicInteger();
        RuntimeException failure;

        CountingGenerator(int context) {
            this.context = context;
        }

        @Override
        public String id() {
            return "counting@1";
        }

        @Override
        public String family() {
            return "llava";
        }

        @Override
        public int contextLength() {
            return context;
        }

        @Override
        public int countTokens(String text) {
            return text.split("\\s+").length;
        }

        @Override
        public int overheadTokens(GenerationInput input) {
            return OVERHEAD;
        }

        @Override
        public Generation generate(GenerationInput input, DecodingOptions options, Consumer<String> onText) {
            calls.incrementAndGet();
            if (failure != null) {
                throw failure;
            }
            return new Generation(input.prompt().contains("TRAP") ? "no" : "yes", new int[0], 0, "eos", 0, 0);
        }

        @Override
        public double logProb(GenerationInput input, String response) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {
        }
    }

    Path image(String name, int red) throws Exception {
        BufferedImage img = new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(new Color(red, 0, 0));
        g.fillRect(0, 0, 4, 4);
        g.dispose();
        Path f = dir.resolve(name + ".png");
        ImageIO.write(img, "png", f.toFile());
        return f;
    }

    static Labelled labelled(String id, String set, Path image, String task, List<String> docs, List<String> reports) {
        Example e = new Example(id, set, image, task, "is it there?", "yes", "closed", List.of(), docs, reports);
        return new Labelled(e, docs.stream().map(d -> id + "/" + d).toList(), reports.stream().map(r -> id + "/" + r).toList());
    }

    static int tokens(Example e) {
        return new CountingGenerator(0).countTokens(new RagPrompt(e.task(), e.question(), e.choices(), e.documents(), e.reports()).render());
    }

    @Test
    void aPromptFitsWhenItsTokensEqualTheBudgetAndNotWithOneTokenLess() throws Exception {
        Labelled l = labelled("q", "s", image("red", 200), "closed_vqa", List.of(), List.of());
        // budget = context − overhead − answer budget; the bare prompt is never cut, so it fits or is refused
        int exact = tokens(l.example()) + OVERHEAD + ANSWER_BUDGET;

        PairBuilder.Built fits = new PairBuilder(new CountingGenerator(exact), img -> new float[] {1}, ANSWER_BUDGET)
                .build(List.of(l), 1, p -> { });
        assertEquals(List.of(1, 0, 0), List.of(fits.examined(), fits.skippedTooLong(), fits.skippedReports()));

        CountingGenerator small = new CountingGenerator(exact - 1);
        PairBuilder.Built refused = new PairBuilder(small, img -> new float[] {1}, ANSWER_BUDGET).build(List.of(l, l), 1, p -> { });
        assertEquals(List.of(0, 2, 0), List.of(refused.examined(), refused.skippedTooLong(), refused.skippedReports()));
        assertEquals(List.of(), refused.pairs());
        assertEquals(0, small.calls.get(), "refused before generating, as serving refuses it");
        assertNull(new PairBuilder(small, img -> new float[] {1}, ANSWER_BUDGET).pairs(l, Map.of()), "null: cannot be judged");
    }

    @Test
    void aReportCannotBeJudged() throws Exception {
        Labelled report = labelled("r", "s", image("red", 200), "report_generation", List.of(), List.of());
        assertNull(new PairBuilder(new CountingGenerator(10_000), img -> new float[] {1}, ANSWER_BUDGET).pairs(report, Map.of()));
    }

    @Test
    void onlyTheEvidenceTheFittedPromptHeldIsAblated() throws Exception {
        Path red = image("red", 200);
        // calls: 1 with everything, then 1 per part that applies (reports, documents, both when it held each)
        record Case(List<String> docs, List<String> reports, int calls) {
        }
        for (Case c : List.of(new Case(List.of(), List.of(), 1), new Case(List.of("doc"), List.of(), 2),
                new Case(List.of(), List.of("rep"), 2), new Case(List.of("doc"), List.of("rep"), 4))) {
            CountingGenerator g = new CountingGenerator(10_000);
            List<?> pairs = new PairBuilder(g, img -> new float[] {1}, ANSWER_BUDGET)
                    .pairs(labelled("q", "s", red, "closed_vqa", c.docs(), c.reports()), Map.of());
            assertEquals(c.calls(), g.calls.get(), c.toString());
            assertEquals(List.of(), pairs, "right with and without every part: no pair");
        }
        // a report that does not fit is dropped by fitting: then only the documents can be ablated
        Labelled both = labelled("q", "s", red, "closed_vqa", List.of("doc"), List.of("a long report " + "word ".repeat(40)));
        Example docOnly = new Example("q", "s", red, "closed_vqa", "is it there?", "yes", "closed", List.of(), List.of("doc"), List.of());
        CountingGenerator g = new CountingGenerator(tokens(docOnly) + OVERHEAD + ANSWER_BUDGET);
        new PairBuilder(g, img -> new float[] {1}, ANSWER_BUDGET).pairs(both, Map.of());
        assertEquals(2, g.calls.get());
    }

    @Test
    void closedQuestionsDecodeGreedilyWithinTheirChoicesOthersFreely() throws Exception {
        PairBuilder b = new PairBuilder(new CountingGenerator(10_000), img -> new float[] {1}, ANSWER_BUDGET);
        Path red = image("red", 200);
        Example closed = new Example("c", "s", red, "closed_vqa", "q", "yes", "closed", List.of("left", "right"), List.of(), List.of());
        assertEquals(DecodingOptions.greedy(ANSWER_BUDGET).withChoices(List.of("left", "right")), b.options(closed));
        Example yesNo = new Example("c", "s", red, "closed_vqa", "q", "yes", "closed", List.of(), List.of(), List.of());
        assertEquals(DecodingOptions.greedy(ANSWER_BUDGET).withChoices(List.of("yes", "no")), b.options(yesNo));
        Example open = new Example("o", "s", red, "open_vqa", "q", "a mass", "open", List.of("x"), List.of(), List.of());
        assertEquals(DecodingOptions.greedy(ANSWER_BUDGET), b.options(open));
    }

    @Test
    void theLeastSimilarImageIsByCosineFirstInExampleOrderOnTiesAndWithinItsSet() throws Exception {
        // features by the image's red value: magnitudes differ, so a dot product would choose otherwise
        Map<Integer, float[]> byRed = Map.of(10, new float[] {1, 0}, 20, new float[] {10, 10}, 30, new float[] {0.1f, 0.02f},
                40, new float[] {0, 3}, 50, new float[] {0, 0.5f}, 60, new float[] {0, 0}, 70, new float[] {5, 5});
        AtomicInteger featureCalls = new AtomicInteger();
        PairBuilder.ImageFeatures features = img -> {
            featureCalls.incrementAndGet();
            return byRed.get(new Color(img.getRGB(0, 0)).getRed()).clone();
        };
        Path a = image("a", 10);
        Path b = image("b", 20);
        Path c = image("c", 30);
        Path d = image("d", 40);
        Path e = image("e", 50);
        Path z = image("z", 60);
        Path other = image("other", 70);
        List<String> progress = new ArrayList<>();
        PairBuilder builder = new PairBuilder(new CountingGenerator(10_000), features, ANSWER_BUDGET);

        // a (1,0): b at cos 0.707 (dot 10), c at cos 0.981 (dot 0.1): b is the least similar
        Map<Path, Path> abc = builder.leastSimilar(List.of(labelled("1", "s", a, "closed_vqa", List.of(), List.of()),
                labelled("2", "s", b, "closed_vqa", List.of(), List.of()), labelled("3", "s", c, "closed_vqa", List.of(), List.of()),
                labelled("4", "s", a, "open_vqa", List.of(), List.of()), labelled("5", "s", z, "report_generation", List.of(), List.of()),
                labelled("6", "t", other, "closed_vqa", List.of(), List.of())), progress::add);
        assertEquals(b, abc.get(a));
        assertEquals(a, abc.get(b), "b (1,1): a at cos 0.707, c at 0.832");
        assertEquals(b, abc.get(c));
        assertEquals(null, abc.get(other), "alone in its set");
        assertEquals(null, abc.get(z), "reports are not paired");
        assertEquals(4, featureCalls.get(), "once per image of a question; none for a report");
        assertEquals(List.of("image features of 4 images"), progress);

        // a (1,0): d (0,3) and e (0,0.5) both at cosine 0: the first in example order
        assertEquals(d, builder.leastSimilar(List.of(labelled("1", "s", a, "closed_vqa", List.of(), List.of()),
                labelled("2", "s", d, "closed_vqa", List.of(), List.of()), labelled("3", "s", e, "closed_vqa", List.of(), List.of())),
                p -> { }).get(a));
        // a zero vector stays zero (cosine 0 with everything), below b's 0.707
        assertEquals(z, builder.leastSimilar(List.of(labelled("1", "s", a, "closed_vqa", List.of(), List.of()),
                labelled("2", "s", b, "closed_vqa", List.of(), List.of()), labelled("3", "s", z, "closed_vqa", List.of(), List.of())),
                p -> { }).get(a));
    }

    @Test
    void progressEveryFiftyExamples() throws Exception {
        Path red = image("red", 200);
        List<Labelled> examples = Collections.nCopies(100, labelled("q", "s", red, "closed_vqa", List.of(), List.of()));
        List<String> progress = Collections.synchronizedList(new ArrayList<>());
        PairBuilder.Built built = new PairBuilder(new CountingGenerator(10_000), img -> new float[] {1}, ANSWER_BUDGET)
                .build(examples, 3, progress::add);
        assertEquals(100, built.examined());
        assertEquals(List.of("image features of 1 images", "pairs: 50/100 examples re-run", "pairs: 100/100 examples re-run"), progress);
    }

    @Test
    void aGeneratorsFailureIsPassedOnAsItIs() throws Exception {
        CountingGenerator g = new CountingGenerator(10_000);
        g.failure = new IllegalStateException("decoder failed");
        Labelled l = labelled("q", "s", image("red", 200), "closed_vqa", List.of(), List.of());
        assertSame(g.failure, assertThrows(IllegalStateException.class,
                () -> new PairBuilder(g, img -> new float[] {1}, ANSWER_BUDGET).build(List.of(l), 2, p -> { })));
    }
}

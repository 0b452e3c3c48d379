package io.heterorag.model.generation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import io.heterorag.model.bundle.ExecutionProviders;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * What every {@link Generator} must do, through the interface only. Run against the tiny model of
 * each family (model-runtime) and usable against a trained bundle (test-jar): extend it and return
 * the generator. Inputs are images with words a medical model may answer.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class GeneratorContract {

    private ExecutionProviders.Choice cpu;
    private OnnxGenerator generator;

    /** The bundle under test, written or trained by the subclass. */
    protected abstract Path bundle() throws Exception;

    @BeforeAll
    void loadGenerator() throws Exception {
        cpu = ExecutionProviders.choose("cpu", 1);
        generator = OnnxGenerator.load(bundle(), cpu);
    }

    @AfterAll
    void closeGenerator() {
        generator.close();
        cpu.options().close();
    }

    /** The generator under test (kept open across the tests of a class). */
    protected Generator generator() {
        return generator;
    }

    public static BufferedImage image(Color color, int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(color);
        g.fillRect(0, 0, w, h);
        g.setColor(Color.WHITE);
        g.fillOval(w / 4, h / 4, w / 3, h / 2);
        g.dispose();
        return img;
    }

    public static final List<GenerationInput> INPUTS = List.of(
            new GenerationInput(image(Color.DARK_GRAY, 40, 30), "is there a pneumothorax?"),
            new GenerationInput(image(Color.RED, 64, 64), "what organ is shown in this image?"),
            new GenerationInput(null, "findings"),
            new GenerationInput(image(Color.BLUE, 20, 50), "which lobe of the lung has an opacity in the chest x ray?"),
            new GenerationInput(image(Color.GREEN, 32, 32), "mass"),
            new GenerationInput(null, "is the heart enlarged and is there a pleural effusion on the left?"),
            new GenerationInput(image(Color.ORANGE, 33, 17), "ct or mri?"),
            new GenerationInput(image(Color.BLACK, 50, 50), "where is the lesion"));

    static DecodingOptions sampled(long seed) {
        return new DecodingOptions(16, 1.2f, 1f, 0, seed, 1f, List.of(), List.of());
    }

    @Test
    void streamedTextArrivesInOrderAndAddsUpToTheAnswer() {
        for (GenerationInput in : INPUTS.subList(0, 3)) {
            List<String> chunks = new ArrayList<>();
            Generation g = generator().generate(in, DecodingOptions.greedy(16), chunks::add);
            assertEquals(g.text(), String.join("", chunks));
            assertTrue(List.of("eos", "length").contains(g.finishReason()), g.finishReason());
            assertTrue(g.tokenIds().length <= 16);
            assertTrue(g.firstTokenNanos() > 0 && g.firstTokenNanos() <= g.totalNanos());
            assertEquals(generator().countTokens(in.prompt()) + generator().overheadTokens(in), g.promptTokens(),
                    "prompt tokens = text tokens + the adapter's overhead");
        }
    }

    /** An input the generator answers with some text (a trained model needs its served prompt format). */
    protected GenerationInput textInput() {
        return INPUTS.get(1);
    }

    @Test
    void aStopStringEndsTheAnswerBeforeItAndIsNeverStreamed() {
        GenerationInput in = textInput();
        String free = generator().generate(in, DecodingOptions.greedy(24), null).text();
        assertTrue(free.length() >= 2, "an answer of two characters at least: " + free);
        String stop = free.substring(free.length() / 2, Math.min(free.length(), free.length() / 2 + 3));
        StringBuilder streamed = new StringBuilder();
        Generation g = generator().generate(in, new DecodingOptions(24, 0, 1, 0, 0, 1, List.of(stop), List.of()), streamed::append);
        assertEquals("stop", g.finishReason());
        assertEquals(free.substring(0, free.indexOf(stop)), g.text());
        assertEquals(g.text(), streamed.toString());
    }

    @Test
    void anExceptionFromTheStreamOrAnInterruptAbortsTheCall() {
        IllegalStateException boom = new IllegalStateException("client went away");
        assertSame(boom, assertThrows(IllegalStateException.class,
                () -> generator().generate(textInput(), DecodingOptions.greedy(30), t -> {
                    throw boom;
                })));
        assertThrows(CancellationException.class, () -> generator().generate(textInput(), DecodingOptions.greedy(30),
                t -> Thread.currentThread().interrupt()));
        assertTrue(Thread.interrupted(), "the interrupt is kept");
        assertTrue(generator().generate(INPUTS.get(2), DecodingOptions.greedy(5), null).tokenIds().length <= 5, "still serving");
    }

    @Test
    void aClosedQuestionIsAnsweredWithOneOfTheChoices() {
        List<String> choices = List.of("yes", "no", "pleural effusion");
        for (GenerationInput in : INPUTS) {
            StringBuilder streamed = new StringBuilder();
            Generation g = generator().generate(in, DecodingOptions.greedy(10).withChoices(choices), streamed::append);
            assertEquals("closed", g.finishReason());
            assertTrue(choices.contains(g.text()), g.text());
            assertEquals(g.text(), streamed.toString());
        }
    }

    @Test
    void theSameSeedGivesTheSameSampleAndOtherSeedsOthers() {
        GenerationInput in = INPUTS.get(0);
        int[] first = generator().generate(in, sampled(5), null).tokenIds();
        assertArrayEquals(first, generator().generate(in, sampled(5), null).tokenIds());
        boolean differs = false;
        for (long seed = 6; seed < 14 && !differs; seed++) {
            differs = !Arrays.equals(first, generator().generate(in, sampled(seed), null).tokenIds());
        }
        assertTrue(differs, "another seed gives another sample");
    }

    @Test
    void concurrentCallsGiveWhatEachGetsAlone() throws Exception {
        DecodingOptions o = DecodingOptions.greedy(12);
        List<int[]> alone = new ArrayList<>();
        for (GenerationInput in : INPUTS) {
            alone.add(generator().generate(in, o, null).tokenIds());
        }
        ExecutorService pool = Executors.newFixedThreadPool(INPUTS.size());
        try {
            List<Future<Generation>> futures = new ArrayList<>();
            for (GenerationInput in : INPUTS) {
                futures.add(pool.submit(() -> generator().generate(in, o, null)));
            }
            for (int i = 0; i < INPUTS.size(); i++) {
                assertArrayEquals(alone.get(i), futures.get(i).get().tokenIds(), "request " + i);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void logProbIsANegativeDeterministicSum() {
        GenerationInput in = INPUTS.get(3);
        double a = generator().logProb(in, "left upper lobe");
        assertTrue(a < 0 && Double.isFinite(a), "log-probability " + a);
        assertEquals(a, generator().logProb(in, "left upper lobe"), 1e-9);
    }

    @Test
    void decodingOptionsOutOfRangeAreRefused() {
        for (DecodingOptions bad : List.of(new DecodingOptions(8, -1f, 1f, 0, 0, 1f, List.of(), List.of()),
                new DecodingOptions(8, 1f, 0f, 0, 0, 1f, List.of(), List.of()),
                new DecodingOptions(8, 1f, 1f, -2, 0, 1f, List.of(), List.of()),
                new DecodingOptions(8, 1f, 1f, 0, 0, 0f, List.of(), List.of()))) {
            assertThrows(IllegalArgumentException.class, () -> generator().generate(INPUTS.get(2), bad, null), bad.toString());
        }
    }

    @Test
    void aPromptOverTheContextIsRefusedWithTheNumbers() {
        String longPrompt = "the left lung ".repeat(generator().contextLength());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> generator().generate(new GenerationInput(null, longPrompt), DecodingOptions.greedy(10), null));
        assertTrue(e.getMessage().contains("context " + generator().contextLength()) && e.getMessage().contains("max_new_tokens 10"),
                e.getMessage());
    }
}

package io.heterorag.model.generation;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import io.heterorag.model.bundle.ExecutionProviders;
import io.heterorag.tuning.training.GeneratorJob;
import io.heterorag.tuning.training.GeneratorJobTest;
import io.heterorag.tuning.training.GeneratorTrainer;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/**
 * The Generator contract on a bundle this trainer produced (a short run on SLAKE questions): what
 * serving relies on holds for trained models too, not only for the fixed-weight fixtures. In the
 * contract's package (in this module's tests) so that its package-private tests can be overridden.
 */
@QuarkusTest
class TrainedGeneratorContractTest extends GeneratorContract {

    static ExecutionProviders.Choice cpu;
    static OnnxGenerator generator;

    @BeforeAll
    static void train() throws Exception {
        Path dir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "contract");
        Path data = GeneratorJobTest.examples(dir, 48);
        GeneratorJob.Settings s = new GeneratorJob.Settings(new GeneratorTrainer.Config(12, 16, 3e-3f, 7), 32, 1, 2, 96, 32, 0);
        GeneratorJob.Outcome out = GeneratorJob.run(data, data, s, dir.resolve("vlm"), "vlm-contract", "1", Map.of(), p -> { });
        cpu = ExecutionProviders.choose("cpu", 1);
        generator = OnnxGenerator.load(out.bundle(), cpu);
    }

    @AfterAll
    static void close() {
        generator.close();
        cpu.options().close();
    }

    @Override
    protected Generator generator() {
        return generator;
    }

    // These two need streamed text for the contract's raw questions ("is there a pneumothorax?" with no
    // task line and no "Answer:"). A trained model answers such off-distribution prompts with eos at
    // once (served prompts are RagPrompt-rendered), so the checks cannot run here as written; they run
    // on the fixed-weight fixtures in model-runtime.
    private static final String RAW_PROMPTS = "needs text for a raw, unrendered question: the trained model answers those with eos at once";

    @Override
    @Test
    @Disabled(RAW_PROMPTS)
    void aStopStringEndsTheAnswerBeforeItAndIsNeverStreamed() {
    }

    @Override
    @Test
    @Disabled(RAW_PROMPTS)
    void anExceptionFromTheStreamOrAnInterruptAbortsTheCall() {
    }
}

package io.heterorag.model.generation;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.heterorag.model.image.ImageDecoder;
import io.heterorag.tuning.training.GeneratorJob;
import io.heterorag.tuning.training.GeneratorJobTest;
import io.heterorag.tuning.training.GeneratorTrainer;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The Generator contract on a bundle this trainer produced (a short run on SLAKE questions): what
 * serving relies on holds for trained models too, not only for the fixed-weight fixtures. In the
 * contract's package (in this module's tests) so that its package-private tests can be overridden.
 */
@QuarkusTest
class TrainedGeneratorContractTest extends GeneratorContract {

    private GenerationInput trainedInput;

    /** A short real training run; its first open question becomes the contract's text input. */
    @Override
    protected Path bundle() throws Exception {
        Path dir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "contract");
        Path data = GeneratorJobTest.examples(dir, 48);
        GeneratorJob.Settings s = new GeneratorJob.Settings(new GeneratorTrainer.Config(12, 16, 3e-3f, 7), 32, 1, 2, 96, 32, 0);
        GeneratorJob.Outcome out = GeneratorJob.run(data, data, s, dir.resolve("vlm"), "vlm-contract", "1", Map.of(), p -> { });
        JsonNode open = Files.readAllLines(data).stream().map(TrainedGeneratorContractTest::json)
                .filter(n -> n.path("task").asText().equals("open_vqa")).findFirst().orElseThrow();
        trainedInput = new GenerationInput(ImageDecoder.decode(Files.readAllBytes(Path.of(open.path("image_path").asText())), ""),
                new RagPrompt("open_vqa", open.path("question").asText(), List.of(), List.of(), List.of()).render());
        return out.bundle();
    }

    static JsonNode json(String line) {
        try {
            return new ObjectMapper().readTree(line);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The first open question the model was trained on, in the served prompt format. */
    @Override
    protected GenerationInput textInput() {
        return trainedInput;
    }
}

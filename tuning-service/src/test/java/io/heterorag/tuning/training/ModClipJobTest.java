package io.heterorag.tuning.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.heterorag.model.image.ImageEncoder;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real (small) ModCLIP training run with DJL/PyTorch on MedPix pairs, exported and checked in ONNX
 * Runtime. A @QuarkusTest only to share the application class loader with the others: the native
 * tokenizer library loads once per JVM.
 */
@QuarkusTest
public class ModClipJobTest {

    public static final Path MEDPIX = Path.of(System.getProperty("medpix.dir", "../../shared/data/medpix-2.0"));

    @TempDir
    Path dir;

    /** The first n train images with their captions, as report-repository JSONL. */
    public static Path pairs(Path dir, int n) throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<String> lines = new ArrayList<>();
        for (String l : Files.readAllLines(MEDPIX.resolve("descriptions_train.jsonl")).subList(0, n)) {
            var d = json.readTree(l);
            String image = d.path("image").asText();
            lines.add(json.writeValueAsString(Map.of("id", image,
                    "image_path", MEDPIX.resolve("images/" + image + ".jpg").toString(),
                    "report", d.path("Description").path("Caption").asText() + " " + d.path("Location").asText())));
        }
        Path f = dir.resolve("pairs-" + n + ".jsonl");
        Files.write(f, lines);
        return f;
    }

    @Test
    void trainingLowersTheLossRaisesRecallAndTheOnnxExportMatches() throws Exception {
        Path data = pairs(dir, 48);
        ModClipJob.Outcome brief = ModClipJob.run(data, data, new ModClipTrainer.Config(1, 16, 2e-3f, 64, 32, 7),
                dir.resolve("brief"), "modclip-test", "1", Map.of(), s -> { });
        ModClipJob.Outcome longer = ModClipJob.run(data, data, new ModClipTrainer.Config(25, 16, 2e-3f, 64, 32, 7),
                dir.resolve("longer"), "modclip-test", "2", Map.of(), s -> { });

        Map<String, Double> m = longer.metrics();
        assertTrue(m.get("final_loss") < m.get("first_epoch_loss") * 0.7, "loss falls: " + m);
        assertTrue(m.get("recall_at_5") > brief.metrics().get("recall_at_5"), "recall rises: " + brief.metrics() + " -> " + m);
        assertTrue(m.get("recall_at_5") > 2 * m.get("chance_at_5"), "well above chance: " + m);
        assertTrue(m.get("parity_max_abs_diff") <= ModClipJob.PARITY_TOLERANCE);
        assertEquals(48.0, m.get("n"));

        // the bundle loads like any other and carries its provenance
        var manifest = io.heterorag.model.bundle.ModelBundles.read(longer.bundle());
        assertEquals("modclip-test", manifest.getName());
        assertEquals("text.onnx", manifest.getTextProjectionFile());
        assertEquals("48", manifest.getTrainingOrThrow("train_pairs"));
        assertEquals(m.get("recall_at_5"), manifest.getMetricsOrThrow("recall_at_5"), 1e-9);
    }
}

package io.heterorag.tuning.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.heterorag.model.bundle.ExecutionProviders;
import io.heterorag.model.bundle.ModelBundles;
import io.heterorag.model.generation.DecodingOptions;
import io.heterorag.model.generation.GenerationInput;
import io.heterorag.model.generation.OnnxGenerator;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real (small) training run of the platform's VLM with DJL/PyTorch on SLAKE questions, exported
 * and checked in ONNX Runtime. A @QuarkusTest only to share the application class loader with the
 * others: the native ONNX Runtime and tokenizer libraries load once per JVM.
 */
@QuarkusTest
public class GeneratorJobTest {

    public static final Path SLAKE = Path.of(System.getProperty("slake.dir", "../../shared/data/vqa/slake"));

    @TempDir
    Path dir;

    /** The first n SLAKE training questions as generator examples (no retrieved evidence). */
    public static Path examples(Path dir, int n) throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<String> lines = new ArrayList<>();
        for (String l : Files.readAllLines(SLAKE.resolve("qa_train.jsonl")).subList(0, n)) {
            JsonNode q = json.readTree(l);
            // as `train generator` writes them: a closed question is a yes/no one, other answers are open
            String gold = q.path("answer").asText().strip().toLowerCase(java.util.Locale.ROOT);
            boolean closed = gold.equals("yes") || gold.equals("no");
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("id", q.path("id").asText());
            e.put("set", "slake");
            e.put("image_path", SLAKE.resolve("images").resolve(q.path("image").asText()).toAbsolutePath().toString());
            e.put("task", closed ? "closed_vqa" : "open_vqa");
            e.put("question", q.path("question").asText());
            e.put("answer", q.path("answer").asText());
            e.put("answer_type", closed ? "closed" : "open");
            e.put("question_type", q.path("question_type").asText());
            e.put("choices", closed ? List.of("yes", "no") : List.of());
            e.put("documents", List.of());
            e.put("reports", List.of());
            lines.add(json.writeValueAsString(e));
        }
        Path f = dir.resolve("examples-" + n + ".jsonl");
        Files.write(f, lines);
        return f;
    }

    /** Report-generation examples: the first n MedPix training cases' first image and their Findings. */
    static List<String> reports(int n) throws Exception {
        ObjectMapper json = new ObjectMapper();
        Path medpix = ModClipJobTest.MEDPIX;
        List<String> lines = new ArrayList<>();
        for (String l : Files.readAllLines(medpix.resolve("data_train.jsonl"))) {
            JsonNode c = json.readTree(l);
            JsonNode images = c.path("TAC").isEmpty() ? c.path("MRI") : c.path("TAC");
            String findings = c.path("Case").path("Findings").asText("");
            if (lines.size() == n || images.isEmpty() || findings.isBlank()) {
                continue;
            }
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("id", "medpix:" + c.path("U_id").asText());
            e.put("set", "medpix");
            e.put("image_path", medpix.resolve("images").resolve(images.get(0).asText() + ".jpg").toAbsolutePath().toString());
            e.put("task", "report_generation");
            e.put("question", "");
            e.put("answer", findings);
            e.put("documents", List.of());
            e.put("reports", List.of());
            lines.add(json.writeValueAsString(e));
        }
        return lines;
    }

    @Test
    void trainingLowersTheLossAndTheOnnxExportMatches() throws Exception {
        Path data = examples(dir, 48);
        Files.write(data, reports(8), java.nio.file.StandardOpenOption.APPEND);
        GeneratorJob.Settings s = new GeneratorJob.Settings(new GeneratorTrainer.Config(12, 16, 3e-3f, 7), 32, 1, 2, 96, 32, 0);
        GeneratorJob.Outcome out = GeneratorJob.run(data, data, s, dir.resolve("vlm"), "vlm-test", "1", Map.of(), p -> { });

        Map<String, Double> m = out.metrics();
        assertTrue(m.get("final_loss") < m.get("first_epoch_loss") * 0.7, "loss falls: " + m);
        assertTrue(m.get("parity_max_abs_diff") <= GeneratorJob.PARITY_TOLERANCE, "parity: " + m);
        assertEquals(3.0, m.get("parity_cached_decoding"), "cached decoding checked on 3 sequences: " + m);
        assertTrue(m.get("closed_accuracy") >= 0 && m.get("closed_n") > 0, "closed questions evaluated: " + m);
        assertTrue(m.containsKey("open_exact") && m.containsKey("open_recall"), "open questions evaluated: " + m);
        assertEquals(56.0, m.get("train_sequences"));
        assertTrue(m.get("truncated_answers") > 0, "long findings are cut to the answer budget: " + m);
        assertEquals(8.0, m.get("report_n"), "report generation evaluated: " + m);
        assertTrue(m.get("report_rouge_l") >= 0 && m.get("report_bleu4") >= 0, m.toString());

        System.out.println("generator test metrics: " + m);
        var manifest = ModelBundles.read(out.bundle(), "generator");
        assertEquals("vlm-test", manifest.getName());
        assertEquals("56", manifest.getTrainingOrThrow("train_examples"));
        assertEquals(m.get("closed_accuracy"), manifest.getMetricsOrThrow("closed_accuracy"), 1e-9);

        // the bundle serves like any other: it loads in the runtime and answers a closed question with a choice
        try (OnnxGenerator g = OnnxGenerator.load(out.bundle(), ExecutionProviders.choose("cpu", 0))) {
            var example = GeneratorExamples.read(data, 1).get(0);
            var image = GeneratorJob.decode(example.image());
            String answer = g.generate(new GenerationInput(image, GeneratorJob.fittedPrompt(g, example, image, 4)),
                    DecodingOptions.greedy(4).withChoices(List.of("yes", "no")), null).text();
            assertTrue(List.of("yes", "no").contains(answer), answer);
        }
    }
}

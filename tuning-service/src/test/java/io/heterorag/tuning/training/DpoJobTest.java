package io.heterorag.tuning.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import javax.imageio.ImageIO;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.heterorag.model.bundle.ExecutionProviders;
import io.heterorag.model.bundle.ModelBundles;
import io.heterorag.model.generation.DecodingOptions;
import io.heterorag.model.generation.GenerationInput;
import io.heterorag.model.generation.OnnxGenerator;
import io.heterorag.model.generation.TinyVlmBundles;
import io.heterorag.proto.v1.PairSide;
import io.heterorag.proto.v1.PreferencePair;
import io.heterorag.tuning.preference.PairBuilder;
import io.heterorag.tuning.preference.PairKinds;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DPO on a served generator: the loss against a hand-computed value, the load path against the
 * exported weights, and a real job on the tiny fixed-weight VLM (model-runtime's TinyVlmBundles)
 * over SLAKE yes/no questions: pairs through OnnxGenerator that reproduce when re-run, a reward
 * margin that rises, an export that matches the trained network, before/after figures.
 * A @QuarkusTest only to share the application class loader (native libraries load once per JVM).
 */
@QuarkusTest
public class DpoJobTest {

    @TempDir
    Path dir;

    @Test
    void theLossIsTheHandComputedValue() {
        // z = 0.1·((−2 − −3) − (−4 − −3.5)) = 0.15; −log σ(0.15) = log(1 + e^−0.15) = 0.620957047789532
        assertEquals(0.620957047789532, DpoTrainer.loss(-2, -3, -4, -3.5, 0.1), 1e-12);
        assertEquals(Math.log(2), DpoTrainer.loss(-1, -1, -5, -5, 0.1), 1e-12, "policy = reference: log 2");
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray z = DpoTrainer.rewardDifference(m.create(new float[] {-2, -1}), m.create(new float[] {-4, -5}),
                    m.create(new float[] {-3, -1}), m.create(new float[] {-3.5f, -5}), 0.1f);
            assertArrayEquals(new float[] {0.15f, 0f}, z.toFloatArray(), 1e-6f);
            assertEquals((0.620957047789532 + Math.log(2)) / 2, DpoTrainer.loss(z).getFloat(), 1e-6, "the batched loss is the mean");
            NDArray big = m.create(new float[] {-200f, 200f});
            assertEquals(100.0, DpoTrainer.loss(big).getFloat(), 1e-3, "stable far from 0: softplus(200) = 200, softplus(−200) = 0");
        }
    }

    @Test
    void theLoadPathReadsBackTheExportedWeights() {
        Path bundle = TinyVlmBundles.llava(dir.resolve("tiny"));
        VlmBundleWeights w = VlmBundleWeights.read(bundle);
        assertEquals(TinyVlmBundles.llavaConfig(), w.config());
        Map<String, float[]> expected = TinyVlmBundles.weights(TinyVlmBundles.llavaConfig());
        assertEquals(expected.keySet(), w.weights().keySet());
        expected.forEach((name, v) -> assertArrayEquals(v, w.weights().get(name), name));
    }

    @Test
    void aLossThatIsNoLongerFiniteStopsTheRunNamingWhere() throws Exception {
        Path served = TinyVlmBundles.llava(dir.resolve("start"));
        VlmBundleWeights start = VlmBundleWeights.read(served);
        var cfg = start.config();
        GeneratorNetwork.Dims dims = new GeneratorNetwork.Dims(cfg.vocabSize(), cfg.hidden(), cfg.layers(), cfg.heads(), cfg.context(),
                cfg.imageSize(), cfg.visionChannels());
        Path image = dir.resolve("grey.png");
        ImageIO.write(new BufferedImage(32, 32, BufferedImage.TYPE_BYTE_GRAY), "png", image.toFile());
        List<PreferencePair> pairs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            PairSide.Builder side = PairSide.newBuilder().setImagePath(image.toString()).setPrompt("is there a lesion " + i);
            pairs.add(PreferencePair.newBuilder().setPairId("p" + i).setChosenSide(side.clone().setAnswer("yes"))
                    .setRejectedSide(side.clone().setAnswer("no")).build());
        }
        DpoJob.Laid laid;
        try (OnnxGenerator g = OnnxGenerator.load(served, ExecutionProviders.choose("cpu", 0))) {
            laid = DpoJob.lay(g, pairs, cfg.imageSize());
        }
        // a rate of 1e30 sends the weights to ~1e30 after the first step: the next forward overflows
        DpoTrainer.Config rate = new DpoTrainer.Config(3, 2, 1e30f, 0.5f, 7);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> DpoTrainer.train(laid.pairs(), laid.images(), start.weights(), dims, rate, List.of(), p -> { }));
        assertTrue(e.getMessage().startsWith("dpo diverged: loss ") && e.getMessage().contains("at epoch 1, step 2"), e.getMessage());
    }

    /** SLAKE yes/no questions with short in-vocabulary evidence, as `train generator` writes examples. */
    static Path examples(Path dir, String name, int skip, int n) throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<String> texts = TinyVlmBundles.TEXTS;
        List<String> lines = new ArrayList<>();
        int seen = 0;
        for (String l : Files.readAllLines(GeneratorJobTest.SLAKE.resolve("qa_train.jsonl"))) {
            JsonNode q = json.readTree(l);
            String gold = q.path("answer").asText().strip().toLowerCase(Locale.ROOT);
            if (!(gold.equals("yes") || gold.equals("no")) || seen++ < skip) {
                continue;
            }
            if (lines.size() == n) {
                break;
            }
            int i = lines.size();
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("id", q.path("id").asText());
            e.put("set", "slake");
            e.put("image_path", GeneratorJobTest.SLAKE.resolve("images").resolve(q.path("image").asText()).toAbsolutePath().toString());
            e.put("task", "closed_vqa");
            e.put("question", q.path("question").asText());
            e.put("answer", gold);
            e.put("choices", List.of("yes", "no"));
            e.put("documents", List.of(texts.get(i % texts.size()), texts.get((i + 5) % texts.size())));
            e.put("document_ids", List.of("doc" + i + "#0", "doc" + i + "#1"));
            e.put("reports", List.of(texts.get((i + 9) % texts.size())));
            e.put("report_ids", List.of("medpix:report" + i));
            lines.add(json.writeValueAsString(e));
        }
        Path f = dir.resolve(name + ".jsonl");
        Files.write(f, lines);
        return f;
    }

    @Test
    void aJobOnTheTinyVlmMakesReproduciblePairsRaisesTheMarginAndExportsAMatchingModel() throws Exception {
        Path served = TinyVlmBundles.llava(dir.resolve("served"));
        Path train = examples(dir, "train", 0, 60);
        Path eval = examples(dir, "eval", 60, 24);
        List<PreferencePair> stored = new ArrayList<>();
        DpoJob.Settings s = new DpoJob.Settings(new DpoTrainer.Config(4, 8, 1e-3f, 0.5f, 7), 0, 2);
        DpoJob.Outcome out = DpoJob.run(served, train, eval, s, dir.resolve("tuned"), "vlm-dpo-test", "1", Map.of(), stored::add,
                p -> { });
        Map<String, Double> m = out.metrics();
        System.out.println("dpo test metrics: " + m);

        assertEquals(m.get("pairs"), (double) stored.size(), "every pair is handed to the store");
        assertTrue(stored.size() > 0, m.toString());
        for (String kind : List.of(PairKinds.CROSS_MODALITY, PairKinds.KNOWLEDGE_USE, PairKinds.KNOWLEDGE_ROBUSTNESS)) {
            assertTrue(m.get("pairs_" + kind) > 0, "the slice yields " + kind + " pairs: " + m);
        }
        assertTrue(m.get("start_max_abs_diff") <= DpoTrainer.START_TOLERANCE, "the loaded weights are the served ones: " + m);
        assertTrue(m.get("epoch4_reward_margin") > m.get("epoch1_reward_margin"), "the margin rises: " + m);
        assertTrue(m.get("epoch4_loss") < m.get("epoch1_loss"), "the loss falls: " + m);
        assertTrue(m.get("epoch4_reward_accuracy") > 0.5, "chosen beats rejected: " + m);
        assertTrue(m.get("parity_max_abs_diff") <= GeneratorJob.PARITY_TOLERANCE, m.toString());
        assertEquals(3.0, m.get("parity_cached_decoding"));
        for (String f : List.of("closed_accuracy", "noisy_knowledge_accuracy", "mismatched_image_drop")) {
            assertTrue(m.containsKey("before_" + f) && m.containsKey("after_" + f), f + ": " + m);
        }
        assertEquals(out.promotable(), m.get("not_worse") == 1.0);
        assertEquals("generator", ModelBundles.read(out.bundle(), "generator").getKind());

        // each side of a pair reproduces its answer when re-run on its own inputs by the served generator
        try (OnnxGenerator g = OnnxGenerator.load(served, ExecutionProviders.choose("cpu", 0))) {
            for (PreferencePair p : stored) {
                for (PairSide side : List.of(p.getChosenSide(), p.getRejectedSide())) {
                    String again = g.generate(new GenerationInput(PairBuilder.decode(Path.of(side.getImagePath())), side.getPrompt()),
                            DecodingOptions.greedy(16).withChoices(List.of("yes", "no")), null).text();
                    if (p.getKind().equals(PairKinds.CROSS_MODALITY)) {
                        assertEquals(p.getGold(), again, "both images give the right answer: " + p.getPairId());
                    } else {
                        assertEquals(side.getAnswer(), again, p.getPairId());
                    }
                }
                assertTrue(!p.getChosenSide().equals(p.getRejectedSide()), "the sides differ in their inputs");
            }
        }
    }
}

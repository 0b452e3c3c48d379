package io.heterorag.model.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.heterorag.model.bundle.ModelBundles;
import io.heterorag.model.generation.VlmOnnxExportTest.Decoder;
import io.heterorag.model.generation.VlmOnnxExportTest.Step;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The qwen2_vl-family export (TinyVlmBundles.qwen2vl) in ONNX Runtime. */
class Qwen2VlExportTest {

    @TempDir
    Path dir;

    @Test
    void writesQwen2VlConfigsAndAVisionEncoderOverMergedPatches() throws Exception {
        Path bundle = TinyVlmBundles.qwen2vl(dir.resolve("q"));
        VlmConfig cfg = TinyVlmBundles.qwen2vlConfig();
        assertEquals("tiny-qwen2-vl", ModelBundles.read(bundle, "generator").getName());
        JsonObject config = JsonParser.parseString(Files.readString(bundle.resolve("config.json"))).getAsJsonObject();
        assertEquals("qwen2_vl", config.get("model_type").getAsString());
        assertEquals(32, config.get("hidden_size").getAsInt());
        assertEquals(2, config.get("num_key_value_heads").getAsInt());
        assertEquals(128, config.get("max_position_embeddings").getAsInt());
        assertEquals(4, config.get("image_token_id").getAsInt());
        assertEquals(5, config.get("vision_start_token_id").getAsInt());
        assertEquals(6, config.get("vision_end_token_id").getAsInt());
        assertEquals(2, config.getAsJsonObject("vision_config").get("spatial_merge_size").getAsInt());
        JsonObject pre = JsonParser.parseString(Files.readString(bundle.resolve("preprocessor_config.json"))).getAsJsonObject();
        assertEquals(56 * 56, pre.get("max_pixels").getAsInt());
        assertEquals(14, pre.get("patch_size").getAsInt());
        assertEquals(2, pre.get("merge_size").getAsInt());

        try (OrtSession vision = VlmOnnxExportTest.session(bundle.resolve(VlmOnnxExport.VISION_ENCODER))) {
            assertEquals(java.util.Set.of("pixel_values", "image_grid_thw"), vision.getInputNames());
            float[][] patches = new float[16][VlmConfig.QWEN_PATCH_VALUES];
            patches[5][3] = 1;
            try (OnnxTensor px = OnnxTensor.createTensor(VlmOnnxExportTest.ENV, patches);
                    OnnxTensor grid = OnnxTensor.createTensor(VlmOnnxExportTest.ENV, new long[][] {{1, 4, 4}});
                    OrtSession.Result r = vision.run(Map.of("pixel_values", px, "image_grid_thw", grid))) {
                float[][] features = (float[][]) r.get("image_features").get().getValue();
                assertEquals(4, features.length, "16 patches, 2x2 merge");
                assertEquals(cfg.hidden(), features[0].length);
                assertTrue(Arrays.equals(features[0], features[2]), "merge groups 0 and 2 have the same (zero) patches");
                assertFalse(Arrays.equals(features[0], features[1]), "patch 5 is in merge group 1");
            }
        }
    }

    @Test
    void threeAxisPositionsChangeTheLogitsAndTheCacheAgreesWithTheWholeSequence() throws Exception {
        Path bundle = TinyVlmBundles.qwen2vl(dir.resolve("q"));
        VlmConfig cfg = TinyVlmBundles.qwen2vlConfig();
        long[] ids = {2, 5, 4, 4, 4, 4, 6, 40, 41, 42};
        try (Decoder d = new Decoder(bundle, cfg)) {
            float[][][] embeds = d.embed(new long[][] {ids});
            long[][] mask = VlmOnnxExportTest.ones(1, ids.length);
            // text positions: the same on all three axes
            long[][][] text = new long[3][1][ids.length];
            for (int a = 0; a < 3; a++) {
                for (int i = 0; i < ids.length; i++) {
                    text[a][0][i] = i;
                }
            }
            // Qwen2-VL's image positions: t fixed, h and w over the 2x2 grid of merged tokens
            long[][][] mrope = copy(text);
            for (int k = 0; k < 4; k++) {
                mrope[0][0][2 + k] = 2;
                mrope[1][0][2 + k] = 2 + k / 2;
                mrope[2][0][2 + k] = 2 + k % 2;
            }
            for (int i = 6; i < ids.length; i++) {
                for (int a = 0; a < 3; a++) {
                    mrope[a][0][i] = i - 2;
                }
            }
            Step a = d.run(embeds, mask, text, null);
            Step b = d.run(embeds, mask, mrope, null);
            float worst = 0;
            int last = ids.length - 1;
            for (int v = 0; v < cfg.vocabSize(); v++) {
                worst = Math.max(worst, Math.abs(a.logits()[0][last][v] - b.logits()[0][last][v]));
            }
            assertTrue(worst > 1e-2, "positions matter: " + worst);
            long[][][] onlyW = copy(text);
            onlyW[2][0][last] = 0;
            Step c = d.run(embeds, mask, onlyW, null);
            assertFalse(Arrays.equals(a.logits()[0][last], c.logits()[0][last]), "the w axis alone matters");

            // prefill all but the last token, then one cached step
            int n = ids.length - 1;
            long[][][] prefix = new long[3][1][];
            long[][][] lastPos = new long[3][1][1];
            for (int ax = 0; ax < 3; ax++) {
                prefix[ax][0] = Arrays.copyOf(mrope[ax][0], n);
                lastPos[ax][0][0] = mrope[ax][0][n];
            }
            Step prefill = d.run(VlmOnnxExportTest.slice(embeds, 0, n), VlmOnnxExportTest.ones(1, n), prefix, null);
            Step next = d.run(VlmOnnxExportTest.slice(embeds, n, ids.length), mask, lastPos, prefill.present());
            VlmOnnxExportTest.assertClose(b.logits()[0][last], next.logits()[0][0], 1e-4f);
        }
    }

    @Test
    void tokenizerHasTheVisionSpecials() throws Exception {
        Path bundle = TinyVlmBundles.qwen2vl(dir.resolve("q"));
        try (var tok = ai.djl.huggingface.tokenizers.HuggingFaceTokenizer.newInstance(bundle.resolve("tokenizer.json"),
                Map.of("addSpecialTokens", "false"))) {
            assertEquals(List.of(5L, 4L, 4L, 6L), Arrays.stream(tok.encode("<|vision_start|><image><image><|vision_end|>").getIds()).boxed().toList());
        }
    }

    static long[][][] copy(long[][][] x) {
        long[][][] c = new long[x.length][x[0].length][];
        for (int a = 0; a < x.length; a++) {
            for (int b = 0; b < x[a].length; b++) {
                c[a][b] = x[a][b].clone();
            }
        }
        return c;
    }
}

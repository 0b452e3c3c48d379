package io.heterorag.model.generation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VlmOnnxExportTest {

    static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
    static final String TOKENIZER = WordPieceVocabulary.tokenizerJson(List.of("no pneumothorax", "a small effusion"), 64);

    @TempDir
    Path dir;

    static VlmConfig tinyLlava() {
        return VlmConfig.llava(40, 16, 2, 2, 32, 32, 8, 8);
    }

    @Test
    void llavaGraphsLoadAndHaveTheContractsInputsAndOutputs() throws Exception {
        VlmConfig cfg = tinyLlava();
        VlmOnnxExport.write(dir, cfg, VlmOnnxExport.randomWeights(cfg, 1), TOKENIZER);
        for (String f : List.of("tokenizer.json", "config.json", "generation_config.json", "preprocessor_config.json")) {
            assertTrue(Files.isRegularFile(dir.resolve(f)), f);
        }
        JsonObject config = JsonParser.parseString(Files.readString(dir.resolve("config.json"))).getAsJsonObject();
        assertEquals("llava", config.get("model_type").getAsString());
        assertEquals(4, config.get("image_token_index").getAsInt());
        assertEquals(4, config.get("image_seq_length").getAsInt());
        assertEquals(16, config.getAsJsonObject("text_config").get("hidden_size").getAsInt());
        assertEquals(32, config.getAsJsonObject("vision_config").get("image_size").getAsInt());
        JsonObject gen = JsonParser.parseString(Files.readString(dir.resolve("generation_config.json"))).getAsJsonObject();
        assertEquals(3, gen.get("eos_token_id").getAsInt());
        JsonObject pre = JsonParser.parseString(Files.readString(dir.resolve("preprocessor_config.json"))).getAsJsonObject();
        assertEquals(32, pre.getAsJsonObject("size").get("height").getAsInt());
        assertEquals(0.25, pre.getAsJsonArray("image_std").get(2).getAsDouble());

        try (OrtSession vision = session(dir.resolve(VlmOnnxExport.VISION_ENCODER));
                OrtSession decoder = session(dir.resolve(VlmOnnxExport.DECODER))) {
            float[][][][] pixels = new float[2][3][32][32];
            pixels[1][0][5][7] = 1;
            try (OnnxTensor px = OnnxTensor.createTensor(ENV, pixels); OrtSession.Result r = vision.run(Map.of("pixel_values", px))) {
                float[][][] features = (float[][][]) r.get("image_features").get().getValue();
                assertEquals(2, features.length);
                assertEquals(cfg.imageTokens(), features[0].length);
                assertEquals(cfg.hidden(), features[0][0].length);
                assertTrue(!java.util.Arrays.equals(features[0][0], features[1][0]), "the image changes the features");
            }
            assertEquals(java.util.Set.of("inputs_embeds", "attention_mask", "position_ids", "past_key_values.0.key",
                    "past_key_values.0.value", "past_key_values.1.key", "past_key_values.1.value"), decoder.getInputNames());
            assertTrue(decoder.getOutputNames().containsAll(List.of("logits", "present.0.key", "present.1.value")));
        }
    }

    @Test
    void decodingWithThePastGivesTheSameLogitsAsTheWholeSequence() throws Exception {
        VlmConfig cfg = tinyLlava();
        VlmOnnxExport.write(dir, cfg, VlmOnnxExport.randomWeights(cfg, 2), TOKENIZER);
        long[] ids = {2, 4, 4, 4, 4, 17, 23, 9, 30};
        try (Decoder d = new Decoder(dir, cfg)) {
            float[][][] embeds = d.embed(new long[][] {ids});
            Step whole = d.run(embeds, ones(1, ids.length), positions(ones(1, ids.length), 0), null);
            int n = ids.length - 1;
            Step prefill = d.run(slice(embeds, 0, n), ones(1, n), positions(ones(1, n), 0), null);
            Step next = d.run(slice(embeds, n, ids.length), ones(1, ids.length), new long[][] {{n}}, prefill.present);
            assertClose(whole.logits[0][n], next.logits[0][0], 1e-4f);
            assertClose(whole.logits[0][n - 1], prefill.logits[0][n - 1], 1e-4f);
            assertEquals(ids.length, next.present.get("present.1.value")[0][0].length);
            // and a second step on top of that past
            long[] more = {2, 4, 4, 4, 4, 17, 23, 9, 30, 11};
            Step whole2 = d.run(d.embed(new long[][] {more}), ones(1, more.length), positions(ones(1, more.length), 0), null);
            Step next2 = d.run(d.embed(new long[][] {{11}}), ones(1, more.length), new long[][] {{ids.length}}, next.present);
            assertClose(whole2.logits[0][ids.length], next2.logits[0][0], 1e-4f);
        }
    }

    @Test
    void leftPaddingDoesNotChangeASequencesLogits() throws Exception {
        VlmConfig cfg = tinyLlava();
        VlmOnnxExport.write(dir, cfg, VlmOnnxExport.randomWeights(cfg, 3), TOKENIZER);
        long[] longer = {2, 8, 9, 10, 11, 12, 13};
        long[] shorter = {2, 20, 21, 22, 23};
        try (Decoder d = new Decoder(dir, cfg)) {
            Step alone = d.run(d.embed(new long[][] {shorter}), ones(1, 5), positions(ones(1, 5), 0), null);
            long[][] batchIds = {longer, {0, 0, 2, 20, 21, 22, 23}};
            long[][] mask = {{1, 1, 1, 1, 1, 1, 1}, {0, 0, 1, 1, 1, 1, 1}};
            Step batch = d.run(d.embed(batchIds), mask, positions(mask, 0), null);
            for (int i = 0; i < 5; i++) {
                assertClose(alone.logits[0][i], batch.logits[1][i + 2], 1e-4f);
            }
            Step longAlone = d.run(d.embed(new long[][] {longer}), ones(1, 7), positions(ones(1, 7), 0), null);
            assertClose(longAlone.logits[0][6], batch.logits[0][6], 1e-4f);
            // one cached step for both rows: the padded row still matches its unpadded run
            long[][] stepMask = {{1, 1, 1, 1, 1, 1, 1, 1}, {0, 0, 1, 1, 1, 1, 1, 1}};
            Step step = d.run(d.embed(new long[][] {{15}, {15}}), stepMask, new long[][] {{7}, {5}}, batch.present);
            Step aloneStep = d.run(d.embed(new long[][] {{15}}), ones(1, 6), new long[][] {{5}}, alone.present);
            assertClose(aloneStep.logits[0][0], step.logits[1][0], 1e-4f);
        }
    }

    @Test
    void aMissingOrMisSizedWeightIsRefusedByName() {
        VlmConfig cfg = tinyLlava();
        Map<String, float[]> w = new LinkedHashMap<>(VlmOnnxExport.randomWeights(cfg, 4));
        w.remove("decoder.layers.1.attn.v.bias");
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> VlmOnnxExport.write(dir, cfg, w, TOKENIZER));
        assertTrue(missing.getMessage().contains("missing weight decoder.layers.1.attn.v.bias"), missing.getMessage());
        w.put("decoder.layers.1.attn.v.bias", new float[cfg.hidden()]);
        w.put("vision.proj1.weight", new float[7]);
        IllegalArgumentException sized = assertThrows(IllegalArgumentException.class, () -> VlmOnnxExport.write(dir, cfg, w, TOKENIZER));
        assertTrue(sized.getMessage().contains("vision.proj1.weight has 7 values"), sized.getMessage());
        assertTrue(!Files.exists(dir.resolve(VlmOnnxExport.DECODER)), "nothing written");
    }

    @Test
    void aTokenizerLargerThanTheVocabularyIsRefused() {
        VlmConfig cfg = VlmConfig.llava(10, 16, 1, 2, 32, 32, 8, 8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VlmOnnxExport.write(dir, cfg, VlmOnnxExport.randomWeights(cfg, 1), TOKENIZER));
        assertTrue(e.getMessage().contains("outside the model's vocabulary of 10"), e.getMessage());
    }

    @Test
    void shapesListEveryParameterOfTheDocumentedArchitecture() {
        Map<String, long[]> s = VlmOnnxExport.shapes(VlmConfig.llavaDefaults(500));
        assertArrayEquals(new long[] {128, 64, 3, 3}, s.get("vision.conv3.weight"));
        assertArrayEquals(new long[] {128, 128}, s.get("vision.proj1.weight"));
        assertArrayEquals(new long[] {320, 128}, s.get("decoder.pos"));
        assertArrayEquals(new long[] {128, 512}, s.get("decoder.layers.1.mlp.fc1.weight"));
        assertArrayEquals(new long[] {128, 500}, s.get("lm_head.weight"));
        assertEquals(8 + 4 + 1 + 1 + 2 * 16 + 2 + 1, s.size());
    }

    // ---- helpers: run the exported graphs directly in ONNX Runtime ----

    static OrtSession session(Path file) throws OrtException {
        return ENV.createSession(file.toString(), new OrtSession.SessionOptions());
    }

    record Step(float[][][] logits, Map<String, float[][][][]> present) {
    }

    /** The embed and decoder graphs of a bundle. */
    static final class Decoder implements AutoCloseable {
        final OrtSession embed;
        final OrtSession decoder;
        final VlmConfig cfg;

        Decoder(Path dir, VlmConfig cfg) throws OrtException {
            this.embed = session(dir.resolve(VlmOnnxExport.EMBED_TOKENS));
            this.decoder = session(dir.resolve(VlmOnnxExport.DECODER));
            this.cfg = cfg;
        }

        float[][][] embed(long[][] ids) throws OrtException {
            try (OnnxTensor t = OnnxTensor.createTensor(ENV, ids); OrtSession.Result r = embed.run(Map.of("input_ids", t))) {
                return (float[][][]) r.get(0).getValue();
            }
        }

        Step run(float[][][] embeds, long[][] mask, long[][] positions, Map<String, float[][][][]> past) throws OrtException {
            return run(embeds, mask, (Object) positions, past);
        }

        /** positions: long[B][S] (llava) or long[3][B][S] (qwen2_vl). */
        Step run(float[][][] embeds, long[][] mask, Object positions, Map<String, float[][][][]> past) throws OrtException {
            Map<String, OnnxTensor> in = new HashMap<>();
            try {
                in.put("inputs_embeds", OnnxTensor.createTensor(ENV, embeds));
                in.put("attention_mask", OnnxTensor.createTensor(ENV, mask));
                in.put("position_ids", OnnxTensor.createTensor(ENV, positions));
                for (int l = 0; l < cfg.layers(); l++) {
                    for (String kv : List.of("key", "value")) {
                        // P = 0 at the first step: an empty past
                        in.put("past_key_values." + l + "." + kv, past == null
                                ? OnnxTensor.createTensor(ENV, java.nio.FloatBuffer.allocate(0), new long[] {embeds.length, cfg.heads(), 0, cfg.headDim()})
                                : OnnxTensor.createTensor(ENV, past.get("present." + l + "." + kv)));
                    }
                }
                try (OrtSession.Result r = decoder.run(in)) {
                    Map<String, float[][][][]> present = new HashMap<>();
                    for (int l = 0; l < cfg.layers(); l++) {
                        for (String kv : List.of("key", "value")) {
                            String name = "present." + l + "." + kv;
                            present.put(name, (float[][][][]) r.get(name).get().getValue());
                        }
                    }
                    return new Step((float[][][]) r.get("logits").get().getValue(), present);
                }
            } finally {
                in.values().forEach(OnnxTensor::close);
            }
        }

        @Override
        public void close() throws OrtException {
            embed.close();
            decoder.close();
        }
    }

    static long[][] ones(int b, int s) {
        long[][] m = new long[b][s];
        for (long[] row : m) {
            java.util.Arrays.fill(row, 1);
        }
        return m;
    }

    /** cumsum(mask) - 1 + offset, pads clamped to 0 (what the runtime sends). */
    static long[][] positions(long[][] mask, int offset) {
        long[][] p = new long[mask.length][mask[0].length];
        for (int b = 0; b < mask.length; b++) {
            long sum = 0;
            for (int i = 0; i < mask[b].length; i++) {
                sum += mask[b][i];
                p[b][i] = Math.max(0, sum - 1 + offset);
            }
        }
        return p;
    }

    static float[][][] slice(float[][][] x, int from, int to) {
        float[][][] out = new float[x.length][][];
        for (int b = 0; b < x.length; b++) {
            out[b] = java.util.Arrays.copyOfRange(x[b], from, to);
        }
        return out;
    }

    static void assertClose(float[] expected, float[] actual, float tolerance) {
        assertEquals(expected.length, actual.length);
        float worst = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(worst <= tolerance, "largest difference " + worst);
    }
}

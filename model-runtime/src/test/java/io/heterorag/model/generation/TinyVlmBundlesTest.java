package io.heterorag.model.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import io.heterorag.model.bundle.ModelBundles;
import io.heterorag.model.generation.VlmOnnxExportTest.Decoder;
import io.heterorag.model.generation.VlmOnnxExportTest.Step;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TinyVlmBundlesTest {

    @TempDir
    Path dir;

    @Test
    void llavaBundleIsAGeneratorWrittenOnce() throws Exception {
        Path bundle = TinyVlmBundles.llava(dir.resolve("tiny"));
        assertEquals("generator", ModelBundles.read(bundle, "generator").getKind());
        assertEquals("tiny-vlm", ModelBundles.read(bundle).getName());
        var written = Files.getLastModifiedTime(bundle.resolve(VlmOnnxExport.DECODER));
        byte[] decoder = Files.readAllBytes(bundle.resolve(VlmOnnxExport.DECODER));
        Thread.sleep(20);
        TinyVlmBundles.llava(bundle);
        assertEquals(written, Files.getLastModifiedTime(bundle.resolve(VlmOnnxExport.DECODER)), "not rewritten");
        TinyVlmBundles.llava(dir.resolve("again"));
        assertTrue(Arrays.equals(decoder, Files.readAllBytes(dir.resolve("again").resolve(VlmOnnxExport.DECODER))), "same weights every time");
    }

    @Test
    void greedyDecodingOfTheLlavaBundleGivesSeveralWordsAndDependsOnTheImage() throws Exception {
        Path bundle = TinyVlmBundles.llava(dir.resolve("tiny"));
        VlmConfig cfg = TinyVlmBundles.llavaConfig();
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(
                Files.readString(bundle.resolve("tokenizer.json")).getBytes(StandardCharsets.UTF_8)), Map.of("addSpecialTokens", "false"));
                Decoder d = new Decoder(bundle, cfg);
                OrtSession vision = VlmOnnxExportTest.session(bundle.resolve(VlmOnnxExport.VISION_ENCODER))) {
            long[] prompt = tok.encode("is there a pneumothorax?").getIds();
            List<Long> generatedA = greedy(d, vision, cfg, prompt, 0.8f, 12);
            List<Long> generatedB = greedy(d, vision, cfg, prompt, -0.8f, 12);
            assertEquals(12, generatedA.size());
            assertFalse(generatedA.subList(0, 4).contains((long) cfg.eosTokenId()), generatedA.toString());
            assertTrue(generatedA.stream().allMatch(id -> id > 4 || id == cfg.eosTokenId()), "no specials but EOS: " + generatedA);
            assertFalse(tok.decode(generatedA.stream().mapToLong(Long::longValue).toArray()).isBlank());
            assertTrue(generatedA.stream().distinct().count() > 1, "not one token repeated: " + generatedA);
            assertFalse(generatedA.equals(generatedB), "the image changes the answer: " + generatedA);
        }
    }

    /** [bos] + image tokens (rows replaced by the vision features) + prompt, then greedy steps with the cache. */
    static List<Long> greedy(Decoder d, OrtSession vision, VlmConfig cfg, long[] prompt, float gray, int steps) throws Exception {
        int n = cfg.imageTokens();
        long[] ids = new long[1 + n + prompt.length];
        ids[0] = cfg.bosTokenId();
        Arrays.fill(ids, 1, 1 + n, cfg.imageTokenId());
        System.arraycopy(prompt, 0, ids, 1 + n, prompt.length);
        float[][][] embeds = d.embed(new long[][] {ids});
        float[][][][] pixels = new float[1][3][cfg.imageSize()][cfg.imageSize()];
        for (int y = 0; y < cfg.imageSize(); y++) {
            Arrays.fill(pixels[0][0][y], gray * y / cfg.imageSize());
        }
        try (OnnxTensor px = OnnxTensor.createTensor(VlmOnnxExportTest.ENV, pixels); OrtSession.Result r = vision.run(Map.of("pixel_values", px))) {
            float[][] features = ((float[][][]) r.get("image_features").get().getValue())[0];
            System.arraycopy(features, 0, embeds[0], 1, n);
        }
        Step step = d.run(embeds, VlmOnnxExportTest.ones(1, ids.length), VlmOnnxExportTest.positions(VlmOnnxExportTest.ones(1, ids.length), 0), null);
        List<Long> out = new ArrayList<>();
        int length = ids.length;
        float[] logits = step.logits()[0][length - 1];
        for (int s = 0; s < steps; s++) {
            long next = argmax(logits);
            out.add(next);
            step = d.run(d.embed(new long[][] {{next}}), VlmOnnxExportTest.ones(1, length + 1), new long[][] {{length}}, step.present());
            length++;
            logits = step.logits()[0][0];
        }
        return out;
    }

    static long argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}

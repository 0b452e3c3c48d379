package io.heterorag.model.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import io.heterorag.model.bundle.ExecutionProviders;
import org.junit.jupiter.api.Test;

/** The real MiniLM from its Maven jar, in ONNX Runtime. */
class TextEncoderTest {

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    @Test
    void loadsFromATextEncoderBundleLikeFromTheJar(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        // a bundle made of the jar's own files: the same model must give the same vectors
        ClassLoader cl = TextEncoder.class.getClassLoader();
        try (var model = cl.getResourceAsStream("all-minilm-l6-v2-q.onnx"); var tok = cl.getResourceAsStream("all-minilm-l6-v2-q-tokenizer.json")) {
            java.nio.file.Files.copy(model, dir.resolve("model.onnx"));
            java.nio.file.Files.copy(tok, dir.resolve("tokenizer.json"));
        }
        java.nio.file.Files.writeString(dir.resolve("bundle.json"), "{\"name\": \"minilm\", \"version\": \"t\", \"kind\": \"text_encoder\","
                + " \"onnxFile\": \"model.onnx\", \"tokenizerFile\": \"tokenizer.json\", \"maxTokens\": 256, \"dimension\": 384}");
        ExecutionProviders.Choice cpu = ExecutionProviders.choose("cpu", 1);
        try (TextEncoder fromBundle = TextEncoder.load(dir, cpu.options()); TextEncoder fromJar = TextEncoder.miniLm(cpu.options())) {
            assertEquals("minilm@t", fromBundle.name());
            org.junit.jupiter.api.Assertions.assertArrayEquals(fromJar.embed(List.of("pulmonary hamartoma"))[0],
                    fromBundle.embed(List.of("pulmonary hamartoma"))[0], 1e-6f);
        } finally {
            cpu.options().close();
        }
        java.nio.file.Files.writeString(dir.resolve("bundle.json"), "{\"name\": \"minilm\", \"version\": \"t\", \"kind\": \"text_encoder\","
                + " \"onnxFile\": \"model.onnx\", \"tokenizerFile\": \"tokenizer.json\", \"maxTokens\": 0, \"dimension\": 384}");
        IllegalArgumentException zero = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> TextEncoder.load(dir, new ai.onnxruntime.OrtSession.SessionOptions()));
        assertTrue(zero.getMessage().contains("max_tokens"), zero.getMessage());
        java.nio.file.Files.writeString(dir.resolve("bundle.json"), "{\"name\": \"x\", \"kind\": \"image_encoder\"}");
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> TextEncoder.load(dir, new ai.onnxruntime.OrtSession.SessionOptions()));
        assertTrue(e.getMessage().contains("not a text_encoder"), e.getMessage());
    }

    @Test
    void embedsMeaningNotJustWordsAndBatchesConsistently() {
        ExecutionProviders.Choice cpu = ExecutionProviders.choose("cpu", 1);
        try (TextEncoder enc = TextEncoder.miniLm(cpu.options())) {
            assertEquals(384, enc.dimension());
            List<String> texts = List.of("glioblastoma of the brain", "malignant brain tumour", "fracture of the femoral neck");
            float[][] v = enc.embed(texts);
            assertEquals(1.0, dot(v[0], v[0]), 1e-4);
            assertTrue(dot(v[0], v[1]) > dot(v[0], v[2]) + 0.1, "related meaning scores higher than unrelated");
            // the int8 model quantises activations per tensor, so a batch (with padding) shifts an embedding
            // slightly; what must hold is that it stays the same direction
            float[] alone = enc.embed(List.of(texts.get(2)))[0];
            assertTrue(dot(alone, v[2]) > 0.99, "batched ~ unbatched: cosine " + dot(alone, v[2]));
        } finally {
            cpu.options().close();
        }
    }

    @Test
    void miniLmGivesItsGoldenVectorForAFixedSentence() {
        // golden values (this build, ONNX Runtime CPU): a flipped sign, a dropped attention mask or another
        // pooling changes them; the int8 kernels may differ by a few 1e-4 between CPUs
        ExecutionProviders.Choice cpu = ExecutionProviders.choose("cpu", 1);
        try (TextEncoder enc = TextEncoder.miniLm(cpu.options())) {
            assertEquals("all-minilm-l6-v2-q@langchain4j-1.19.0-beta29", enc.name());
            float[] v = enc.embed(List.of("Tension pneumothorax with mediastinal shift."))[0];
            assertEquals(-0.0075320, v[0], 2e-3);
            assertEquals(-0.0359167, v[100], 2e-3);
            assertEquals(0.0547741, v[200], 2e-3);
            assertEquals(0.0211066, v[383], 2e-3);
            assertEquals(1.0, dot(v, v), 1e-4);
            assertEquals(0, enc.embed(List.of()).length);
        } finally {
            cpu.options().close();
        }
    }

    @Test
    void normalizeScalesToUnitLengthAndLeavesZeroAlone() {
        float[] v = {3, 4};
        org.junit.jupiter.api.Assertions.assertSame(v, Vectors.normalize(v));
        org.junit.jupiter.api.Assertions.assertArrayEquals(new float[] {0.6f, 0.8f}, v, 1e-7f);
        org.junit.jupiter.api.Assertions.assertArrayEquals(new float[] {0, 0}, Vectors.normalize(new float[] {0, 0}), 0f);
    }
}

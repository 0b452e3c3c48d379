package io.heterorag.model.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import ai.onnxruntime.OrtSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CrossEncoderTest {

    @TempDir
    Path dir;

    @Test
    void scoresEachPairWithTheBundleModel() throws Exception {
        try (CrossEncoder ce = CrossEncoder.load(CrossEncoderBundles.termCounter(dir.resolve("ce"), "pneumothorax"),
                new OrtSession.SessionOptions())) {
            assertEquals("term-counter@test", ce.id());
            float[] s = ce.score("chest pain", List.of("Normal chest radiograph.", "Tension pneumothorax with mediastinal shift.",
                    "Pneumothorax, pneumothorax."));
            assertEquals(3, s.length);
            assertTrue(s[1] > s[0], java.util.Arrays.toString(s));
            assertTrue(s[2] > s[1], "counts every occurrence: " + java.util.Arrays.toString(s));
            assertEquals(0, ce.score("q", List.of()).length);
        }
    }

    @Test
    void aBundleOfAnotherKindIsRefused() throws Exception {
        Path bundle = CrossEncoderBundles.termCounter(dir.resolve("x"), "a");
        Files.writeString(bundle.resolve("bundle.json"), Files.readString(bundle.resolve("bundle.json")).replace("cross_encoder", "text_encoder"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CrossEncoder.load(bundle, new OrtSession.SessionOptions()));
        assertTrue(e.getMessage().contains("not a cross_encoder"), e.getMessage());
        Files.writeString(bundle.resolve("bundle.json"), Files.readString(bundle.resolve("bundle.json"))
                .replace("text_encoder", "cross_encoder").replace("\"max_tokens\": 128", "\"max_tokens\": 0"));
        e = assertThrows(IllegalArgumentException.class, () -> CrossEncoder.load(bundle, new OrtSession.SessionOptions()));
        assertTrue(e.getMessage().contains("max_tokens"), e.getMessage());
    }

    @Test
    void tokenTypeIdsTellTheModelWhichSegmentIsThePassage() throws Exception {
        // the model counts "pneumothorax" tokens in segment 1 only: the query's own occurrence counts nothing
        for (int classes = 0; classes <= 2; classes++) {
            try (CrossEncoder ce = CrossEncoder.load(CrossEncoderBundles.passageTermCounter(dir.resolve("seg" + classes), classes,
                    "pneumothorax"), new OrtSession.SessionOptions())) {
                float[] s = ce.score("pneumothorax", List.of("Normal chest radiograph.", "Small pneumothorax.",
                        "Pneumothorax, then pneumothorax again."));
                assertEquals(0, s[0], 0, "classes " + classes + ": " + java.util.Arrays.toString(s));
                assertTrue(s[1] > 0, "classes " + classes + ": " + java.util.Arrays.toString(s));
                assertEquals(2 * s[1], s[2], 0, "classes " + classes + ": " + java.util.Arrays.toString(s));
            }
        }
    }
}

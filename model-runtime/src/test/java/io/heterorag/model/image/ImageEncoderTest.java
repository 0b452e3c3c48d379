package io.heterorag.model.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import ai.onnxruntime.OrtSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The baseline bundle runs in ONNX Runtime and computes what its documentation says. */
class ImageEncoderTest {

    @TempDir
    Path dir;

    @Test
    void baselineEmbedsUnitVectorsThatMatchAThumbnailComputedInJava() throws Exception {
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
                ImageEncoder enc = ImageEncoder.load(BaselineImageBundle.materialize(dir.resolve("b")), o)) {
            BufferedImage a = ImageDecoder.decode(MedPixImages.bytes("MPX1007_synpic46719"), "");
            BufferedImage b = ImageDecoder.decode(MedPixImages.bytes("MPX1012_synpic22949"), "");
            float[][] batch = enc.embed(List.of(a, b));
            float[] single = enc.embed(List.of(b))[0];
            assertEquals(256, batch[0].length);
            assertArrayEquals(single, batch[1], 1e-5f, "batched = unbatched");
            double norm = 0, dot = 0;
            for (int i = 0; i < 256; i++) {
                norm += batch[0][i] * batch[0][i];
                dot += batch[0][i] * batch[1][i];
            }
            assertEquals(1.0, norm, 1e-4);
            assertTrue(dot < 0.99, "different images differ");

            // a constant image plus a bright square: the pooled cell under the square is the largest value
            BufferedImage sq = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 4; y++) {
                for (int x = 0; x < 4; x++) {
                    sq.setRGB(x, y, 0xffffff);
                }
            }
            float[] e = enc.embed(List.of(sq))[0];
            int argmax = 0;
            for (int i = 1; i < e.length; i++) {
                argmax = e[i] > e[argmax] ? i : argmax;
            }
            assertEquals(0, argmax);
        }
    }

    @Test
    void badManifestGivesAClearError() throws Exception {
        Path b = BaselineImageBundle.materialize(dir.resolve("bad"));
        Files.writeString(b.resolve("bundle.json"), "{\"name\": \"x\", \"kind\": \"image_encoder\", \"nope\": 1}");
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageEncoder.load(b, o));
            assertTrue(e.getMessage().contains("malformed"), e.getMessage());
            Files.writeString(b.resolve("bundle.json"), "{\"name\": \"x\", \"kind\": \"text_encoder\"}");
            e = assertThrows(IllegalArgumentException.class, () -> ImageEncoder.load(b, o));
            assertTrue(e.getMessage().contains("not an image_encoder"), e.getMessage());
        }
    }
}

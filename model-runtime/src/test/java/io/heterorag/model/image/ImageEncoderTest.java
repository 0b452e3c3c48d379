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

    static io.heterorag.proto.v1.ImagePreprocessing rgb(int size, String resize) {
        return io.heterorag.proto.v1.ImagePreprocessing.newBuilder().setSize(size).setChannels(3).setResize(resize)
                .addMean(0.5f).addMean(0.25f).addMean(0f).addStd(0.5f).addStd(0.25f).addStd(1f).build();
    }

    @Test
    void rgbPixelsAreNormalisedPerChannelInChannelPlanes() {
        // 2×2: red, green / blue, grey 128; size 2 keeps every pixel; value = (c/255 − mean[k]) / std[k]
        BufferedImage img = new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, 0xff0000);
        img.setRGB(1, 0, 0x00ff00);
        img.setRGB(0, 1, 0x0000ff);
        img.setRGB(1, 1, 0x808080);
        float grey = 128 / 255f;
        float[] px = ImageEncoder.pixels(List.of(img), rgb(2, "squash"));
        // NCHW: plane k at k·4, pixel (x, y) at y·2 + x
        assertArrayEquals(new float[] {
            1, -1, -1, (grey - 0.5f) / 0.5f, //     R: mean 0.5, std 0.5
            -1, 3, -1, (grey - 0.25f) / 0.25f, //   G: mean 0.25, std 0.25
            0, 0, 1, grey}, px, 1e-6f); //          B: mean 0, std 1
        // one channel: luma 0.299 R + 0.587 G + 0.114 B, then that channel's mean and std
        var luma = io.heterorag.proto.v1.ImagePreprocessing.newBuilder().setSize(2).setChannels(1).setResize("squash")
                .addMean(0.1f).addStd(2f).build();
        assertArrayEquals(new float[] {(0.299f - 0.1f) / 2, (0.587f - 0.1f) / 2, (0.114f - 0.1f) / 2, (grey - 0.1f) / 2},
                ImageEncoder.pixels(List.of(img), luma), 1e-6f);
        // a batch is the images' tensors one after another
        float[] two = ImageEncoder.pixels(List.of(img, img), rgb(2, "squash"));
        assertArrayEquals(px, java.util.Arrays.copyOfRange(two, 12, 24), 0f);
    }

    @Test
    void downscalingIsBilinear() {
        // 4×4 with alternating white and black columns, to 2×2: each output pixel lies halfway between a
        // white and a black column, so bilinear gives grey (nearest-neighbour would give white or black)
        BufferedImage stripes = new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x += 2) {
                stripes.setRGB(x, y, 0xffffff);
            }
        }
        var luma = io.heterorag.proto.v1.ImagePreprocessing.newBuilder().setSize(2).setChannels(1).setResize("squash")
                .addMean(0).addStd(1).build();
        for (float v : ImageEncoder.pixels(List.of(stripes), luma)) {
            assertEquals(0.5, v, 0.01);
        }
    }

    @Test
    void materializingTwiceKeepsTheBundle() throws Exception {
        Path b = BaselineImageBundle.materialize(dir.resolve("twice"));
        long written = Files.getLastModifiedTime(b.resolve("model.onnx")).toMillis();
        assertEquals(b, BaselineImageBundle.materialize(b));
        assertEquals(written, Files.getLastModifiedTime(b.resolve("model.onnx")).toMillis());
    }

    @Test
    void centerCropKeepsTheMiddleSquareOfWideAndTallImages() {
        // 4×2, columns white | red | blue | white: the centre 2×2 is red | blue, unscaled
        BufferedImage wide = new BufferedImage(4, 2, BufferedImage.TYPE_INT_RGB);
        BufferedImage tall = new BufferedImage(2, 4, BufferedImage.TYPE_INT_RGB);
        int[] colours = {0xffffff, 0xff0000, 0x0000ff, 0xffffff};
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 2; j++) {
                wide.setRGB(i, j, colours[i]);
                tall.setRGB(j, i, colours[i]);
            }
        }
        var p = io.heterorag.proto.v1.ImagePreprocessing.newBuilder().setSize(2).setChannels(3).setResize("center_crop")
                .addMean(0).addMean(0).addMean(0).addStd(1).addStd(1).addStd(1).build();
        // planes R, G, B; pixels (0,0), (1,0), (0,1), (1,1)
        assertArrayEquals(new float[] {1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1}, ImageEncoder.pixels(List.of(wide), p), 1e-6f);
        assertArrayEquals(new float[] {1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1}, ImageEncoder.pixels(List.of(tall), p), 1e-6f);
        // squash keeps the whole width: the white border shows in the G plane
        float[] squashed = ImageEncoder.pixels(List.of(wide), p.toBuilder().setResize("squash").build());
        assertTrue(squashed[4] > 0, "white mixed in: " + squashed[4]);
    }

    /** The baseline bundle plus a text tower: base text vectors (3-d) times W (3×2). */
    static Path withTextTower(Path dir) throws Exception {
        Path b = BaselineImageBundle.materialize(dir);
        float[] w = {3, 4, 1, 0, 0, -2}; // rows: base dimension; columns: output dimension
        var g = ai.onnx.proto.OnnxMl.GraphProto.newBuilder().setName("text_tower")
                .addInput(io.heterorag.model.bundle.OnnxGraphs.floatValue("text", -1, 3))
                .addOutput(io.heterorag.model.bundle.OnnxGraphs.floatValue("projected", -1, 2))
                .addInitializer(io.heterorag.model.bundle.OnnxGraphs.tensor("w", w, 3, 2))
                .addNode(io.heterorag.model.bundle.OnnxGraphs.node("MatMul", List.of("text", "w"), "projected"));
        Files.write(b.resolve("text.onnx"), io.heterorag.model.bundle.OnnxGraphs.model(g.build()).toByteArray());
        io.heterorag.model.bundle.ModelBundles.write(b, io.heterorag.model.bundle.ModelBundles.read(b).toBuilder()
                .setTextProjectionFile("text.onnx").setTextBaseEncoder("all-minilm-l6-v2-q").build());
        return b;
    }

    @Test
    void theTextTowerProjectsBaseTextVectorsToUnitVectors() throws Exception {
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
                ImageEncoder enc = ImageEncoder.load(withTextTower(dir.resolve("tower")), o);
                ImageEncoder plain = ImageEncoder.load(BaselineImageBundle.materialize(dir.resolve("plain")), o)) {
            assertTrue(enc.hasTextTower());
            assertEquals("all-minilm-l6-v2-q", enc.textBaseEncoder());
            // (1, 0, 0)·W = (3, 4) → (0.6, 0.8); (0, 0, 2)·W = (0, −4) → (0, −1)
            float[][] t = enc.embedTexts(new float[][] {{1, 0, 0}, {0, 0, 2}});
            assertArrayEquals(new float[] {0.6f, 0.8f}, t[0], 1e-6f);
            assertArrayEquals(new float[] {0, -1}, t[1], 1e-6f);
            assertEquals(0, enc.embedTexts(new float[0][]).length);
            assertTrue(!plain.hasTextTower());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> plain.embedTexts(new float[][] {{1, 0, 0}}));
            assertTrue(e.getMessage().contains("baseline-thumbnail@1 has no text tower"), e.getMessage());
            assertEquals("baseline-thumbnail@1", enc.id());
            assertEquals(256, enc.dimension());
            assertEquals("image_encoder", enc.manifest().getKind());
        }
    }

    @Test
    void preprocessedInputsEmbedLikeImages() throws Exception {
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
                ImageEncoder enc = ImageEncoder.load(BaselineImageBundle.materialize(dir.resolve("b")), o)) {
            BufferedImage a = ImageDecoder.decode(MedPixImages.bytes("MPX1007_synpic46719"), "");
            BufferedImage b = ImageDecoder.decode(MedPixImages.bytes("MPX1012_synpic22949"), "");
            float[][] direct = enc.embed(List.of(a, b));
            List<float[]> each = enc.embedEach(List.of(enc.pixels(a), enc.pixels(b)));
            assertArrayEquals(direct[0], each.get(0), 1e-6f);
            assertArrayEquals(direct[1], each.get(1), 1e-6f);
        }
    }

    @Test
    void preprocessingThatCannotBeRunIsRefused() throws Exception {
        Path b = BaselineImageBundle.materialize(dir.resolve("bad-pre"));
        var m = io.heterorag.model.bundle.ModelBundles.read(b);
        for (var bad : List.of(m.getImage().toBuilder().setSize(0).build(), m.getImage().toBuilder().setChannels(2).build(),
                m.getImage().toBuilder().setChannels(2).addMean(0).addStd(1).build(),
                m.getImage().toBuilder().addMean(0).build(), m.getImage().toBuilder().addStd(1).build())) {
            io.heterorag.model.bundle.ModelBundles.write(b, m.toBuilder().setImage(bad).build());
            try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageEncoder.load(b, o));
                assertTrue(e.getMessage().contains("channels 1 or 3"), e.getMessage());
            }
        }
        // three channels with three means and stds is a valid preprocessing
        io.heterorag.model.bundle.ModelBundles.write(b, m.toBuilder().setImage(rgb(64, "squash")).build());
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions(); ImageEncoder rgbEncoder = ImageEncoder.load(b, o)) {
            assertEquals(3, rgbEncoder.manifest().getImage().getChannels());
        }
        Files.writeString(b.resolve("model.onnx"), "not onnx");
        io.heterorag.model.bundle.ModelBundles.write(b, m);
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageEncoder.load(b, o));
            assertTrue(e.getMessage().contains("ONNX model does not load"), e.getMessage());
        }
    }
}

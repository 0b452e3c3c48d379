package io.heterorag.model.image;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.heterorag.model.bundle.OnnxSessions;
import io.heterorag.model.bundle.ModelBundles;
import io.heterorag.model.text.Vectors;
import io.heterorag.proto.v1.ImagePreprocessing;
import io.heterorag.proto.v1.ModelBundleManifest;

/** An image encoder loaded from a model bundle directory (bundle.json + ONNX graph). */
public final class ImageEncoder implements AutoCloseable {

    private final ModelBundleManifest manifest;
    private final OrtSession session;
    private final OrtSession textProjection;

    private ImageEncoder(ModelBundleManifest manifest, OrtSession session, OrtSession textProjection) {
        this.manifest = manifest;
        this.session = session;
        this.textProjection = textProjection;
    }

    public static ImageEncoder load(Path bundleDir, OrtSession.SessionOptions options) {
        ModelBundleManifest m = ModelBundles.read(bundleDir, "image_encoder");
        ImagePreprocessing p = m.getImage();
        if (p.getSize() <= 0 || (p.getChannels() != 1 && p.getChannels() != 3)
                || p.getMeanCount() != p.getChannels() || p.getStdCount() != p.getChannels()) {
            throw new IllegalArgumentException("bundle " + bundleDir + ": image preprocessing needs size > 0, "
                    + "channels 1 or 3 and one mean/std per channel");
        }
        try {
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            OrtSession session = env.createSession(bundleDir.resolve(m.getOnnxFile()).toString(), options);
            OrtSession text = m.getTextProjectionFile().isEmpty() ? null
                    : env.createSession(bundleDir.resolve(m.getTextProjectionFile()).toString(), options);
            return new ImageEncoder(m, session, text);
        } catch (OrtException e) {
            throw new IllegalArgumentException("bundle " + bundleDir + ": ONNX model does not load: " + e.getMessage(), e);
        }
    }

    /** "name@version". */
    public String id() {
        return manifest.getName() + "@" + manifest.getVersion();
    }

    public int dimension() {
        return manifest.getDimension();
    }

    public ModelBundleManifest manifest() {
        return manifest;
    }

    public float[][] embed(List<BufferedImage> images) {
        ImagePreprocessing p = manifest.getImage();
        long[] shape = {images.size(), p.getChannels(), p.getSize(), p.getSize()};
        return run(session, manifest.getInputName(), pixels(images, p), shape);
    }

    /** Embeds images already turned into the input tensor by {@link #pixels}. */
    public float[][] embedPixels(float[] pixels, int count) {
        ImagePreprocessing p = manifest.getImage();
        return run(session, manifest.getInputName(), pixels, new long[] {count, p.getChannels(), p.getSize(), p.getSize()});
    }

    /** One image's input tensor (see {@link #pixels}), so callers can preprocess in their own threads. */
    public float[] pixels(BufferedImage image) {
        return pixels(List.of(image), manifest.getImage());
    }

    /** Embeds single-image input tensors in one call. */
    public List<float[]> embedEach(List<float[]> inputs) {
        int len = inputs.get(0).length;
        float[] all = new float[inputs.size() * len];
        for (int i = 0; i < inputs.size(); i++) {
            System.arraycopy(inputs.get(i), 0, all, i * len, len);
        }
        return java.util.Arrays.asList(embedPixels(all, inputs.size()));
    }

    public boolean hasTextTower() {
        return textProjection != null;
    }

    /** The name of the base text encoder whose embeddings {@link #embedTexts} takes. */
    public String textBaseEncoder() {
        return manifest.getTextBaseEncoder();
    }

    /** Projects base text embeddings (from {@link #textBaseEncoder()}) into this model's space. */
    public float[][] embedTexts(float[][] base) {
        if (textProjection == null) {
            throw new IllegalStateException("image encoder " + id() + " has no text tower");
        }
        if (base.length == 0) {
            return new float[0][];
        }
        float[] flat = new float[base.length * base[0].length];
        for (int i = 0; i < base.length; i++) {
            System.arraycopy(base[i], 0, flat, i * base[0].length, base[0].length);
        }
        return run(textProjection, "text", flat, new long[] {base.length, base[0].length});
    }

    private float[][] run(OrtSession s, String inputName, float[] input, long[] shape) {
        try (OnnxTensor t = OnnxTensor.createTensor(OrtEnvironment.getEnvironment(), FloatBuffer.wrap(input), shape);
                OrtSession.Result result = s.run(Map.of(inputName, t))) {
            float[][] out = (float[][]) result.get(0).getValue();
            for (float[] row : out) {
                Vectors.normalize(row);
            }
            return out;
        } catch (OrtException e) {
            throw new IllegalStateException("image encoder " + id() + " failed: " + e.getMessage(), e);
        }
    }

    /** The input tensor (NCHW, row-major) for images under a bundle's preprocessing; training uses the same. */
    public static float[] pixels(List<BufferedImage> images, ImagePreprocessing p) {
        int size = p.getSize();
        int ch = p.getChannels();
        int plane = size * size;
        float[] pixels = new float[images.size() * ch * plane];
        for (int i = 0; i < images.size(); i++) {
            BufferedImage img = resize(images.get(i), size, p.getResize());
            int base = i * ch * plane;
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    int rgb = img.getRGB(x, y);
                    float r = ((rgb >> 16) & 0xff) / 255f;
                    float g = ((rgb >> 8) & 0xff) / 255f;
                    float b = (rgb & 0xff) / 255f;
                    if (ch == 1) {
                        pixels[base + y * size + x] = ((0.299f * r + 0.587f * g + 0.114f * b) - p.getMean(0)) / p.getStd(0);
                    } else {
                        float[] c = {r, g, b};
                        for (int k = 0; k < 3; k++) {
                            pixels[base + k * plane + y * size + x] = (c[k] - p.getMean(k)) / p.getStd(k);
                        }
                    }
                }
            }
        }
        return pixels;
    }

    private static BufferedImage resize(BufferedImage src, int size, String mode) {
        int sx = 0, sy = 0, sw = src.getWidth(), sh = src.getHeight();
        if ("center_crop".equals(mode)) {
            int side = Math.min(sw, sh);
            sx = (sw - side) / 2;
            sy = (sh - side) / 2;
            sw = side;
            sh = side;
        }
        BufferedImage dst = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = dst.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
        g.drawImage(src, 0, 0, size, size, sx, sy, sx + sw, sy + sh, null);
        g.dispose();
        return dst;
    }

    @Override
    public void close() {
        OnnxSessions.close(session, textProjection);
    }
}

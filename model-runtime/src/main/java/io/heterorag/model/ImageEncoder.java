package io.heterorag.model;

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
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.heterorag.proto.v1.ImagePreprocessing;
import io.heterorag.proto.v1.ModelBundleManifest;

/** An image encoder loaded from a model bundle directory (bundle.json + ONNX graph). */
public final class ImageEncoder implements AutoCloseable {

    private final ModelBundleManifest manifest;
    private final OrtSession session;

    private ImageEncoder(ModelBundleManifest manifest, OrtSession session) {
        this.manifest = manifest;
        this.session = session;
    }

    public static ImageEncoder load(Path bundleDir, OrtSession.SessionOptions options) {
        ModelBundleManifest m = readManifest(bundleDir);
        ImagePreprocessing p = m.getImage();
        if (!"image_encoder".equals(m.getKind())) {
            throw new IllegalArgumentException("bundle " + bundleDir + " is a " + m.getKind() + ", not an image_encoder");
        }
        if (p.getSize() <= 0 || (p.getChannels() != 1 && p.getChannels() != 3)
                || p.getMeanCount() != p.getChannels() || p.getStdCount() != p.getChannels()) {
            throw new IllegalArgumentException("bundle " + bundleDir + ": image preprocessing needs size > 0, "
                    + "channels 1 or 3 and one mean/std per channel");
        }
        try {
            OrtSession session = OrtEnvironment.getEnvironment()
                    .createSession(bundleDir.resolve(m.getOnnxFile()).toString(), options);
            return new ImageEncoder(m, session);
        } catch (OrtException e) {
            throw new IllegalArgumentException("bundle " + bundleDir + ": ONNX model does not load: " + e.getMessage(), e);
        }
    }

    static ModelBundleManifest readManifest(Path bundleDir) {
        Path file = bundleDir.resolve("bundle.json");
        try {
            ModelBundleManifest.Builder b = ModelBundleManifest.newBuilder();
            JsonFormat.parser().merge(Files.readString(file), b);
            return b.build();
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("bundle manifest " + file + " is malformed: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("bundle manifest " + file + " cannot be read", e);
        }
    }

    /** "name@version". */
    public String id() {
        return manifest.getName() + "@" + manifest.getVersion();
    }

    public int dimension() {
        return manifest.getDimension();
    }

    public float[][] embed(List<BufferedImage> images) {
        ImagePreprocessing p = manifest.getImage();
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
        long[] shape = {images.size(), ch, size, size};
        try (OnnxTensor input = OnnxTensor.createTensor(OrtEnvironment.getEnvironment(), FloatBuffer.wrap(pixels), shape);
                OrtSession.Result result = session.run(Map.of(manifest.getInputName(), input))) {
            float[][] out = (float[][]) result.get(manifest.getOutputName()).orElseThrow().getValue();
            for (float[] row : out) {
                Vectors.normalize(row);
            }
            return out;
        } catch (OrtException e) {
            throw new IllegalStateException("image encoder " + id() + " failed: " + e.getMessage(), e);
        }
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
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException(e);
        }
    }
}

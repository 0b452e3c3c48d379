package io.heterorag.model.generation;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.Map;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.gson.JsonObject;
import io.heterorag.model.bundle.OnnxSessions;

/**
 * Qwen2-VL family, following its processor and get_rope_index: the image is resized to multiples of
 * patch x merge within [min_pixels, max_pixels], cut into patches (the frame repeated to
 * temporal_patch_size), encoded to patches / merge² features; ids = [vision_start] + image_token_id x
 * features + [vision_end] + text; positions on 3 axes (text: the same on all; image: t, row, column
 * offsets from where the image starts; text after the image continues at max + 1).
 */
final class Qwen2VlAdapter implements FamilyAdapter {

    /** The processor's parameters (preprocessor_config.json). */
    record Patching(int patch, int temporal, int merge, int minPixels, int maxPixels, float[] mean, float[] std, double rescale) {

        static Patching of(JsonObject p) {
            String file = "preprocessor_config.json";
            JsonObject size = BundleJson.has(p, "size") && p.get("size").isJsonObject() ? p.getAsJsonObject("size") : null;
            int min = BundleJson.integer(p, "min_pixels", BundleJson.integer(size, "shortest_edge", 56 * 56));
            int max = BundleJson.integer(p, "max_pixels", BundleJson.integer(size, "longest_edge", 28 * 28 * 1280));
            boolean normalize = BundleJson.bool(p, "do_normalize", true);
            float[] mean = normalize ? BundleJson.floats(p, "image_mean", null) : new float[] {0, 0, 0};
            float[] std = normalize ? BundleJson.floats(p, "image_std", null) : new float[] {1, 1, 1};
            if (mean == null || std == null || mean.length != 3 || std.length != 3) {
                throw new IllegalArgumentException(file + ": do_normalize needs image_mean and image_std with 3 values");
            }
            double rescale = BundleJson.bool(p, "do_rescale", true) ? BundleJson.number(p, "rescale_factor", 1 / 255.0) : 1;
            return new Patching(BundleJson.integer(p, "patch_size", 14), BundleJson.integer(p, "temporal_patch_size", 2),
                    BundleJson.integer(p, "merge_size", 2), min, max, mean, std, rescale);
        }

        /** Qwen2-VL's smart_resize: {height, width}, multiples of patch x merge, area within [min, max] pixels. */
        int[] resized(int height, int width) {
            int f = patch * merge;
            if (Math.max(height, width) > 200L * Math.min(height, width)) {
                throw new IllegalArgumentException("image aspect ratio must be under 200, not " + width + "x" + height);
            }
            long h = Math.max(f, Math.round(Math.rint((double) height / f)) * f);
            long w = Math.max(f, Math.round(Math.rint((double) width / f)) * f);
            if (h * w > maxPixels) {
                double beta = Math.sqrt((double) height * width / maxPixels);
                h = Math.max(f, (long) Math.floor(height / beta / f) * f);
                w = Math.max(f, (long) Math.floor(width / beta / f) * f);
            } else if (h * w < minPixels) {
                double beta = Math.sqrt((double) minPixels / ((double) height * width));
                h = (long) Math.ceil(height * beta / f) * f;
                w = (long) Math.ceil(width * beta / f) * f;
            }
            return new int[] {(int) h, (int) w};
        }

        /**
         * Patches [grid_t * grid_h * grid_w, C * T * P * P] of one normalized frame [C, height, width], in the
         * processor's order (grid_t, h / merge, w / merge, merge, merge, C, T, P, P).
         */
        float[] patchify(float[] chw, int height, int width) {
            int c = 3;
            int gh = height / patch;
            int gw = width / patch;
            int dim = c * temporal * patch * patch;
            float[] out = new float[gh * gw * dim];
            int row = 0;
            for (int bh = 0; bh < gh / merge; bh++) {
                for (int bw = 0; bw < gw / merge; bw++) {
                    for (int mh = 0; mh < merge; mh++) {
                        for (int mw = 0; mw < merge; mw++) {
                            int y0 = (bh * merge + mh) * patch;
                            int x0 = (bw * merge + mw) * patch;
                            int o = row * dim;
                            for (int ch = 0; ch < c; ch++) {
                                for (int t = 0; t < temporal; t++) { // one image: every temporal slot holds the same frame
                                    for (int py = 0; py < patch; py++) {
                                        for (int px = 0; px < patch; px++) {
                                            out[o++] = chw[(ch * height + y0 + py) * width + x0 + px];
                                        }
                                    }
                                }
                            }
                            row++;
                        }
                    }
                }
            }
            return out;
        }

        /** The normalized frame [3, h, w] of an image resized to {@link #resized}. */
        float[] frame(BufferedImage image, int height, int width) {
            BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = img.createGraphics();
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
            g.drawImage(image, 0, 0, width, height, null);
            g.dispose();
            float[] out = new float[3 * height * width];
            int plane = height * width;
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    int rgb = img.getRGB(x, y);
                    int[] v = {(rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff};
                    for (int ch = 0; ch < 3; ch++) {
                        out[ch * plane + y * width + x] = (float) ((v[ch] * rescale - mean[ch]) / std[ch]);
                    }
                }
            }
            return out;
        }
    }

    private final OrtSession vision;
    private final Patching patching;
    private final int imageTokenId;
    private final int visionStart;
    private final int visionEnd;
    private final int hidden;

    Qwen2VlAdapter(OrtSession vision, Patching patching, int imageTokenId, int visionStart, int visionEnd, int hidden) {
        this.vision = vision;
        this.patching = patching;
        this.imageTokenId = imageTokenId;
        this.visionStart = visionStart;
        this.visionEnd = visionEnd;
        this.hidden = hidden;
    }

    @Override
    public String family() {
        return "qwen2_vl";
    }

    @Override
    public int positionAxes() {
        return 3;
    }

    @Override
    public int imageTokenId() {
        return imageTokenId;
    }

    /** {grid_t, grid_h, grid_w} in patches. */
    private int[] grid(BufferedImage image) {
        int[] hw = patching.resized(image.getHeight(), image.getWidth());
        return new int[] {1, hw[0] / patching.patch(), hw[1] / patching.patch()};
    }

    @Override
    public int[] layout(BufferedImage image, int[] textIds) {
        if (image == null) {
            return textIds.clone();
        }
        int[] g = grid(image);
        int n = g[0] * g[1] * g[2] / (patching.merge() * patching.merge());
        int[] ids = new int[n + 2 + textIds.length];
        ids[0] = visionStart;
        java.util.Arrays.fill(ids, 1, 1 + n, imageTokenId);
        ids[n + 1] = visionEnd;
        System.arraycopy(textIds, 0, ids, n + 2, textIds.length);
        return ids;
    }

    @Override
    public Prepared prepare(BufferedImage image, int[] textIds) {
        int[] ids = layout(image, textIds);
        if (image == null) {
            RopeIndex r = ropeIndex(ids, imageTokenId, 0, 0, 0);
            return new Prepared(ids, new float[0], r.positions(), r.delta());
        }
        int[] hw = patching.resized(image.getHeight(), image.getWidth());
        int[] g = grid(image);
        float[] patches = patching.patchify(patching.frame(image, hw[0], hw[1]), hw[0], hw[1]);
        int rows = g[0] * g[1] * g[2];
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        float[] features;
        try (OnnxTensor pv = OnnxTensor.createTensor(env, FloatBuffer.wrap(patches), new long[] {rows, patches.length / rows});
                OnnxTensor thw = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[] {g[0], g[1], g[2]}), new long[] {1, 3});
                OrtSession.Result r = vision.run(Map.of("pixel_values", pv, "image_grid_thw", thw))) {
            features = DecoderSession.floats(r.get("image_features").orElseThrow());
        } catch (OrtException e) {
            throw new IllegalStateException("vision_encoder.onnx failed: " + e.getMessage(), e);
        }
        int merged = rows / (patching.merge() * patching.merge());
        if (features.length != merged * hidden) {
            throw new IllegalStateException("vision_encoder.onnx returned " + features.length + " values for " + rows
                    + " patches, expected " + merged + " x " + hidden);
        }
        int m = patching.merge();
        RopeIndex r = ropeIndex(ids, imageTokenId, g[0], g[1] / m, g[2] / m);
        return new Prepared(ids, features, r.positions(), r.delta());
    }

    record RopeIndex(long[][] positions, int delta) {
    }

    /**
     * Qwen2-VL's get_rope_index for one sequence with at most one image of {t, h, w} merged tokens:
     * a text token takes the next position on all three axes; the image's tokens take
     * (start + t, start + row, start + column); after the image, positions continue at its max + 1.
     * delta = (max position + 1) - length, so a generated token at index j has position j + delta.
     */
    static RopeIndex ropeIndex(int[] ids, int imageTokenId, int t, int h, int w) {
        long[][] pos = new long[3][ids.length];
        long next = 0;
        int i = 0;
        while (i < ids.length) {
            if (ids[i] == imageTokenId) {
                int n = t * h * w;
                for (int k = 0; k < n; k++) {
                    if (i + k >= ids.length || ids[i + k] != imageTokenId) {
                        throw new IllegalArgumentException("image tokens in the ids do not match the image grid " + t + "x" + h + "x" + w);
                    }
                    pos[0][i + k] = next + k / (h * w);
                    pos[1][i + k] = next + (k / w) % h;
                    pos[2][i + k] = next + k % w;
                }
                next += Math.max(t, Math.max(h, w));
                i += n;
            } else {
                pos[0][i] = next;
                pos[1][i] = next;
                pos[2][i] = next;
                next++;
                i++;
            }
        }
        return new RopeIndex(pos, (int) (next - ids.length));
    }

    @Override
    public void close() {
        OnnxSessions.close(vision);
    }
}

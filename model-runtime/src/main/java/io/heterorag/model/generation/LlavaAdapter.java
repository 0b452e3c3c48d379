package io.heterorag.model.generation;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.gson.JsonObject;
import io.heterorag.model.bundle.OnnxSessions;
import io.heterorag.model.image.ImageEncoder;
import io.heterorag.proto.v1.ImagePreprocessing;

/**
 * LLaVA family: ids = [bos] + image_token_index x N + text, N = rows of the vision encoder's
 * image_features for one image (fixed input size, so fixed N); positions 0..S-1.
 */
final class LlavaAdapter implements FamilyAdapter {

    private final OrtSession vision;
    private final ImagePreprocessing pre;
    /** Resize before {@link ImageEncoder#pixels} when the processor resizes then center-crops; null: squash. */
    private final int[] resizeBeforeCrop;
    private final int imageTokenId;
    private final int bos;
    private final int imageTokens;
    private final int hidden;

    LlavaAdapter(OrtSession vision, JsonObject preprocessor, int imageTokenId, int bos, int hidden) {
        this.vision = vision;
        this.imageTokenId = imageTokenId;
        this.bos = bos;
        this.hidden = hidden;
        String file = "preprocessor_config.json";
        int[] resize = size(preprocessor, "size", file);
        boolean crop = BundleJson.bool(preprocessor, "do_center_crop", false);
        int side;
        if (crop) {
            int[] c = size(preprocessor, "crop_size", file);
            if (c[0] != c[1]) {
                throw new IllegalArgumentException(file + ": crop_size must be square, not " + c[1] + "x" + c[0]);
            }
            side = c[0];
            resizeBeforeCrop = resize;
        } else {
            if (resize[0] <= 0 || resize[0] != resize[1]) {
                throw new IllegalArgumentException(file + ": without do_center_crop the size must be {height, width} and square");
            }
            side = resize[0];
            resizeBeforeCrop = null;
        }
        // ImageEncoder.pixels computes (x/255 - mean) / std; the processor computes (x*factor - mean) / std
        double factor = BundleJson.bool(preprocessor, "do_rescale", true) ? BundleJson.number(preprocessor, "rescale_factor", 1 / 255.0) : 1;
        boolean normalize = BundleJson.bool(preprocessor, "do_normalize", true);
        float[] mean = normalize ? BundleJson.floats(preprocessor, "image_mean", null) : new float[] {0, 0, 0};
        float[] std = normalize ? BundleJson.floats(preprocessor, "image_std", null) : new float[] {1, 1, 1};
        if (mean == null || std == null || mean.length != 3 || std.length != 3) {
            throw new IllegalArgumentException(file + ": do_normalize needs image_mean and image_std with 3 values");
        }
        ImagePreprocessing.Builder p = ImagePreprocessing.newBuilder().setSize(side).setResize("squash").setChannels(3);
        for (int c = 0; c < 3; c++) {
            p.addMean((float) (mean[c] / (255 * factor))).addStd((float) (std[c] / (255 * factor)));
        }
        this.pre = p.build();
        this.imageTokens = encode(new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB)).length / hidden;
    }

    /** {height, width} from {"height", "width"}, or {shortest_edge, -1} from {"shortest_edge"}, or an int. */
    private static int[] size(JsonObject o, String key, String file) {
        if (!BundleJson.has(o, key)) {
            throw new IllegalArgumentException(file + " has no " + key);
        }
        if (o.get(key).isJsonPrimitive()) {
            int s = o.get(key).getAsInt();
            return new int[] {s, s};
        }
        JsonObject s = o.getAsJsonObject(key);
        if (BundleJson.has(s, "shortest_edge")) {
            return new int[] {-s.get("shortest_edge").getAsInt(), -1};
        }
        return new int[] {BundleJson.integer(s, "height", file), BundleJson.integer(s, "width", file)};
    }

    @Override
    public String family() {
        return "llava";
    }

    @Override
    public int positionAxes() {
        return 1;
    }

    @Override
    public int imageTokenId() {
        return imageTokenId;
    }

    @Override
    public int[] layout(BufferedImage image, int[] textIds) {
        int n = image == null ? 0 : imageTokens;
        int head = bos >= 0 ? 1 : 0;
        int[] ids = new int[head + n + textIds.length];
        if (head == 1) {
            ids[0] = bos;
        }
        java.util.Arrays.fill(ids, head, head + n, imageTokenId);
        System.arraycopy(textIds, 0, ids, head + n, textIds.length);
        return ids;
    }

    @Override
    public Prepared prepare(BufferedImage image, int[] textIds) {
        int[] ids = layout(image, textIds);
        float[] features = image == null ? new float[0] : encode(image);
        long[] pos = new long[ids.length];
        for (int i = 0; i < pos.length; i++) {
            pos[i] = i;
        }
        return new Prepared(ids, features, new long[][] {pos}, 0);
    }

    private float[] encode(BufferedImage image) {
        BufferedImage src = image;
        if (resizeBeforeCrop != null) {
            src = resizeAndCrop(image, resizeBeforeCrop, pre.getSize());
        }
        float[] pixels = ImageEncoder.pixels(List.of(src), pre);
        int s = pre.getSize();
        try (OnnxTensor t = OnnxTensor.createTensor(OrtEnvironment.getEnvironment(), FloatBuffer.wrap(pixels), new long[] {1, 3, s, s});
                OrtSession.Result r = vision.run(Map.of("pixel_values", t))) {
            float[] out = DecoderSession.floats(r.get("image_features").orElseThrow());
            if (out.length == 0 || out.length % hidden != 0) {
                throw new IllegalStateException("vision_encoder.onnx returned " + out.length + " values, not rows of hidden size " + hidden);
            }
            return out;
        } catch (OrtException e) {
            throw new IllegalStateException("vision_encoder.onnx failed: " + e.getMessage(), e);
        }
    }

    /** The CLIP processor's resize (shortest edge, or height x width) followed by a center crop. */
    private static BufferedImage resizeAndCrop(BufferedImage src, int[] size, int crop) {
        int w, h;
        if (size[1] < 0) {
            int edge = -size[0];
            double scale = (double) edge / Math.min(src.getWidth(), src.getHeight());
            w = Math.max(edge, (int) (src.getWidth() * scale));
            h = Math.max(edge, (int) (src.getHeight() * scale));
        } else {
            h = size[0];
            w = size[1];
        }
        BufferedImage dst = new BufferedImage(crop, crop, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = dst.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
        g.drawImage(src, -(w - crop) / 2, -(h - crop) / 2, w, h, null);
        g.dispose();
        return dst;
    }

    @Override
    public void close() {
        OnnxSessions.close(vision);
    }
}

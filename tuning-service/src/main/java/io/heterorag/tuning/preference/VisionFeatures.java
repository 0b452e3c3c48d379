package io.heterorag.tuning.preference;

import java.awt.image.BufferedImage;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.heterorag.model.bundle.OnnxSessions;
import io.heterorag.model.generation.VlmOnnxExport;
import io.heterorag.model.image.ImageEncoder;
import io.heterorag.tuning.training.GeneratorJob;

/**
 * The generator's own view of an image: its vision encoder's features ({@code image_features}
 * [1, N, H] of the bundle's {@code vision_encoder.onnx}), averaged over the N image tokens. Used to
 * pick, for cross-modality pairs and the mismatched-image figure, the image the generator finds least
 * like the real one. The platform's VLM (llava family, squash-resized square input) only.
 */
public final class VisionFeatures implements PairBuilder.ImageFeatures, AutoCloseable {

    private final OrtSession session;
    private final int imageSize;

    public VisionFeatures(Path bundle, int imageSize, OrtSession.SessionOptions options) {
        this.imageSize = imageSize;
        try {
            this.session = OrtEnvironment.getEnvironment().createSession(bundle.resolve(VlmOnnxExport.VISION_ENCODER).toString(), options);
        } catch (OrtException e) {
            throw new IllegalStateException("cannot load " + bundle.resolve(VlmOnnxExport.VISION_ENCODER) + ": " + e.getMessage(), e);
        }
    }

    @Override
    public float[] of(BufferedImage image) {
        float[] px = ImageEncoder.pixels(List.of(image), GeneratorJob.preprocessing(imageSize));
        try (OnnxTensor t = OnnxTensor.createTensor(OrtEnvironment.getEnvironment(), FloatBuffer.wrap(px),
                new long[] {1, 3, imageSize, imageSize}); OrtSession.Result r = session.run(Map.of("pixel_values", t))) {
            float[][] rows = ((float[][][]) r.get(0).getValue())[0];
            float[] mean = new float[rows[0].length];
            for (float[] row : rows) {
                for (int i = 0; i < mean.length; i++) {
                    mean[i] += row[i] / rows.length;
                }
            }
            return mean;
        } catch (OrtException e) {
            throw new IllegalStateException("vision encoder failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        OnnxSessions.close(session);
    }
}

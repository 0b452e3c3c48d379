package io.heterorag.model.generation;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

/**
 * The two text graphs of a bundle: embed_tokens.onnx and decoder_model_merged.onnx. One call is one
 * forward pass of a (padded) batch over the past cache; the present cache comes back to the host
 * (ONNX Runtime Java has no I/O binding, so on CUDA this is a device-to-host copy every step).
 */
final class DecoderSession implements AutoCloseable {

    /** One pass: logits [rows, positions, vocab] (all positions, or only the last one) and the new cache. */
    record Output(float[] logits, int vocab, KvCache cache) {
    }

    private final OrtSession embed;
    private final OrtSession decoder;
    final int hidden;
    final int layers;
    final int kvHeads;
    final int headDim;
    final int positionAxes;
    private final boolean useCacheBranch;

    DecoderSession(OrtSession embed, OrtSession decoder, int hidden, int layers, int kvHeads, int headDim, int positionAxes,
            boolean useCacheBranch) {
        this.embed = embed;
        this.decoder = decoder;
        this.hidden = hidden;
        this.layers = layers;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.positionAxes = positionAxes;
        this.useCacheBranch = useCacheBranch;
    }

    /** Token embeddings [rows, len, hidden] of ids [rows, len]. */
    float[] embed(long[] ids, int rows, int len) {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OnnxTensor t = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {rows, len});
                OrtSession.Result r = embed.run(Map.of("input_ids", t))) {
            float[] out = floats(r.get(0));
            if (out.length != rows * len * hidden) {
                throw new IllegalStateException("embed_tokens.onnx returned " + out.length + " values for " + rows + "x" + len
                        + " ids, expected hidden size " + hidden);
            }
            return out;
        } catch (OrtException e) {
            throw new IllegalStateException("embed_tokens.onnx failed: " + e.getMessage(), e);
        }
    }

    /**
     * @param embeds    [rows, len, hidden]
     * @param positions [axes, rows, len]
     * @param past      the cache of the same rows (length P, maybe 0)
     * @param newMask   mask of the new positions [rows, len] (1 real, 0 left padding)
     */
    Output run(float[] embeds, int rows, int len, long[] positions, KvCache past, long[] newMask, boolean allPositions) {
        int total = past.length + len;
        long[] mask = new long[rows * total];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(past.mask, r * past.length, mask, r * total, past.length);
            System.arraycopy(newMask, r * len, mask, r * total + past.length, len);
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        Map<String, OnnxTensor> in = new HashMap<>();
        try {
            in.put("inputs_embeds", OnnxTensor.createTensor(env, FloatBuffer.wrap(embeds), new long[] {rows, len, hidden}));
            in.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(mask), new long[] {rows, total}));
            long[] posShape = positionAxes == 1 ? new long[] {rows, len} : new long[] {positionAxes, rows, len};
            in.put("position_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(positions), posShape));
            long[] kvShape = {rows, kvHeads, past.length, headDim};
            for (int l = 0; l < layers; l++) {
                in.put("past_key_values." + l + ".key", OnnxTensor.createTensor(env, FloatBuffer.wrap(past.keys[l]), kvShape));
                in.put("past_key_values." + l + ".value", OnnxTensor.createTensor(env, FloatBuffer.wrap(past.values[l]), kvShape));
            }
            if (useCacheBranch) {
                in.put("use_cache_branch", OnnxTensor.createTensor(env, new boolean[] {past.length > 0}));
            }
            try (OrtSession.Result r = decoder.run(in)) {
                float[] logits = floats(r.get("logits").orElseThrow());
                int vocab = logits.length / (rows * len);
                if (!allPositions && len > 1) {
                    float[] last = new float[rows * vocab];
                    for (int b = 0; b < rows; b++) {
                        System.arraycopy(logits, ((b * len) + len - 1) * vocab, last, b * vocab, vocab);
                    }
                    logits = last;
                }
                float[][] k = new float[layers][];
                float[][] v = new float[layers][];
                for (int l = 0; l < layers; l++) {
                    k[l] = floats(r.get("present." + l + ".key").orElseThrow());
                    v[l] = floats(r.get("present." + l + ".value").orElseThrow());
                    if (k[l].length != rows * kvHeads * total * headDim) {
                        throw new IllegalStateException("decoder_model_merged.onnx returned present." + l + ".key of "
                                + k[l].length + " values, expected [" + rows + ", " + kvHeads + ", " + total + ", " + headDim + "]");
                    }
                }
                return new Output(logits, vocab, new KvCache(layers, kvHeads, headDim, rows, total, k, v, mask));
            }
        } catch (OrtException e) {
            throw new IllegalStateException("decoder_model_merged.onnx failed: " + e.getMessage(), e);
        } finally {
            in.values().forEach(OnnxTensor::close);
        }
    }

    private static float[] floats(OnnxValue v) {
        FloatBuffer b = ((OnnxTensor) v).getFloatBuffer();
        float[] out = new float[b.remaining()];
        b.get(out);
        return out;
    }

    static List<String> requiredInputs(int layers) {
        List<String> names = new java.util.ArrayList<>(List.of("inputs_embeds", "attention_mask", "position_ids"));
        for (int l = 0; l < layers; l++) {
            names.add("past_key_values." + l + ".key");
            names.add("past_key_values." + l + ".value");
        }
        return names;
    }

    static List<String> requiredOutputs(int layers) {
        List<String> names = new java.util.ArrayList<>(List.of("logits"));
        for (int l = 0; l < layers; l++) {
            names.add("present." + l + ".key");
            names.add("present." + l + ".value");
        }
        return names;
    }

    @Override
    public void close() {
        try {
            embed.close();
            decoder.close();
        } catch (OrtException e) {
            throw new IllegalStateException(e);
        }
    }
}

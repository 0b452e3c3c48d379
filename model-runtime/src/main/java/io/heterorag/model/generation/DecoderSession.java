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
import io.heterorag.model.bundle.OnnxSessions;

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
        List<OnnxTensor> created = new java.util.ArrayList<>();
        try {
            in.put("inputs_embeds", track(created, OnnxTensor.createTensor(env, FloatBuffer.wrap(embeds), new long[] {rows, len, hidden})));
            in.put("attention_mask", track(created, OnnxTensor.createTensor(env, LongBuffer.wrap(mask), new long[] {rows, total})));
            long[] posShape = positionAxes == 1 ? new long[] {rows, len} : new long[] {positionAxes, rows, len};
            in.put("position_ids", track(created, OnnxTensor.createTensor(env, LongBuffer.wrap(positions), posShape)));
            long[] kvShape = {rows, kvHeads, past.length, headDim};
            for (int l = 0; l < layers; l++) {
                // the previous call's present tensors go back in as they are; a host cache is wrapped
                OnnxTensor k = past.keyTensor(l);
                OnnxTensor v = past.valueTensor(l);
                in.put("past_key_values." + l + ".key", k != null ? k
                        : track(created, OnnxTensor.createTensor(env, FloatBuffer.wrap(past.keys(l)), kvShape)));
                in.put("past_key_values." + l + ".value", v != null ? v
                        : track(created, OnnxTensor.createTensor(env, FloatBuffer.wrap(past.values(l)), kvShape)));
            }
            if (useCacheBranch) {
                in.put("use_cache_branch", track(created, OnnxTensor.createTensor(env, new boolean[] {past.length > 0})));
            }
            OrtSession.Result r = decoder.run(in);
            try {
                float[] logits = floats(r.get("logits").orElseThrow());
                int vocab = logits.length / (rows * len);
                if (!allPositions && len > 1) {
                    float[] last = new float[rows * vocab];
                    for (int b = 0; b < rows; b++) {
                        System.arraycopy(logits, ((b * len) + len - 1) * vocab, last, b * vocab, vocab);
                    }
                    logits = last;
                }
                long[] expected = {rows, kvHeads, total, headDim};
                for (int l = 0; l < layers; l++) {
                    for (String kv : List.of(".key", ".value")) {
                        long[] shape = ((OnnxTensor) r.get("present." + l + kv).orElseThrow()).getInfo().getShape();
                        if (!java.util.Arrays.equals(shape, expected)) {
                            throw new IllegalStateException("decoder_model_merged.onnx returned present." + l + kv + " of shape "
                                    + java.util.Arrays.toString(shape) + ", expected " + java.util.Arrays.toString(expected));
                        }
                    }
                }
                return new Output(logits, vocab, KvCache.of(r, layers, kvHeads, headDim, rows, total, mask));
            } catch (RuntimeException e) {
                r.close();
                throw e;
            }
        } catch (OrtException e) {
            throw new IllegalStateException("decoder_model_merged.onnx failed: " + e.getMessage(), e);
        } finally {
            created.forEach(OnnxTensor::close);
        }
    }

    private static OnnxTensor track(List<OnnxTensor> created, OnnxTensor t) {
        created.add(t);
        return t;
    }

    /** A copy of a float tensor's values. */
    static float[] floats(OnnxValue v) {
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
        OnnxSessions.close(embed, decoder);
    }
}

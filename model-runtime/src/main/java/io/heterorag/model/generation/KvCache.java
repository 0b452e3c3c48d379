package io.heterorag.model.generation;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;

/**
 * The decoder's key/value cache for a batch: per layer a key and a value tensor of shape
 * [rows, kvHeads, length, headDim], plus the attention mask [rows, length] (0 on left padding).
 * Rows are the batch's sequences in order; joining sequences are left-padded to a common length.
 * Straight from a decoder call the tensors stay in ONNX Runtime's output (fed back as the next
 * past without a copy); they are copied into Java arrays only when rows join, leave or are trimmed.
 * Operations return this, the other cache or a new host cache, and never close their inputs.
 */
final class KvCache implements AutoCloseable {

    final int layers;
    final int kvHeads;
    final int headDim;
    final int rows;
    final int length;
    final long[] mask;
    private float[][] keys;
    private float[][] values;
    /** The decoder call's result holding present.{i}.key|value, or null for a host cache. */
    private final OrtSession.Result owner;
    private boolean closed;

    KvCache(int layers, int kvHeads, int headDim, int rows, int length, float[][] keys, float[][] values, long[] mask) {
        this(layers, kvHeads, headDim, rows, length, keys, values, mask, null);
    }

    private KvCache(int layers, int kvHeads, int headDim, int rows, int length, float[][] keys, float[][] values, long[] mask,
            OrtSession.Result owner) {
        this.layers = layers;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.rows = rows;
        this.length = length;
        this.keys = keys;
        this.values = values;
        this.mask = mask;
        this.owner = owner;
    }

    /** A cache that owns a decoder result's present tensors (closing the cache closes the result). */
    static KvCache of(OrtSession.Result result, int layers, int kvHeads, int headDim, int rows, int length, long[] mask) {
        return new KvCache(layers, kvHeads, headDim, rows, length, null, null, mask, result);
    }

    /** The layer's key tensor when it is still ONNX Runtime's output, else null. */
    OnnxTensor keyTensor(int layer) {
        return owner == null ? null : (OnnxTensor) owner.get("present." + layer + ".key").orElseThrow();
    }

    OnnxTensor valueTensor(int layer) {
        return owner == null ? null : (OnnxTensor) owner.get("present." + layer + ".value").orElseThrow();
    }

    float[] keys(int layer) {
        materialize();
        return keys[layer];
    }

    float[] values(int layer) {
        materialize();
        return values[layer];
    }

    private void materialize() {
        if (keys != null) {
            return;
        }
        keys = new float[layers][];
        values = new float[layers][];
        for (int l = 0; l < layers; l++) {
            keys[l] = DecoderSession.floats(keyTensor(l));
            values[l] = DecoderSession.floats(valueTensor(l));
        }
    }

    @Override
    public void close() {
        if (owner != null && !closed) {
            closed = true;
            owner.close();
        }
    }

    static KvCache empty(int layers, int kvHeads, int headDim, int rows) {
        float[][] k = new float[layers][0];
        float[][] v = new float[layers][0];
        return new KvCache(layers, kvHeads, headDim, rows, 0, k, v, new long[0]);
    }

    /** The given rows, in that order. */
    KvCache keep(int[] rowsToKeep) {
        boolean all = rowsToKeep.length == rows;
        for (int i = 0; all && i < rows; i++) {
            all = rowsToKeep[i] == i;
        }
        return all ? this : copy(rowsToKeep, length);
    }

    /** This batch followed by {@code other}'s rows; the shorter caches are left-padded (mask 0). */
    KvCache concat(KvCache other) {
        if (rows == 0) {
            return other;
        }
        int len = Math.max(length, other.length);
        KvCache a = padTo(len);
        KvCache b = other.padTo(len);
        int slab = kvHeads * len * headDim;
        float[][] k = new float[layers][];
        float[][] v = new float[layers][];
        for (int l = 0; l < layers; l++) {
            k[l] = new float[(a.rows + b.rows) * slab];
            v[l] = new float[(a.rows + b.rows) * slab];
            System.arraycopy(a.keys(l), 0, k[l], 0, a.rows * slab);
            System.arraycopy(b.keys(l), 0, k[l], a.rows * slab, b.rows * slab);
            System.arraycopy(a.values(l), 0, v[l], 0, a.rows * slab);
            System.arraycopy(b.values(l), 0, v[l], a.rows * slab, b.rows * slab);
        }
        long[] m = new long[(a.rows + b.rows) * len];
        System.arraycopy(a.mask, 0, m, 0, a.rows * len);
        System.arraycopy(b.mask, 0, m, a.rows * len, b.rows * len);
        return new KvCache(layers, kvHeads, headDim, a.rows + b.rows, len, k, v, m);
    }

    /** Drops leading positions that are padding in every row (after long sequences left the batch). */
    KvCache trimPadding() {
        int drop = length;
        for (int r = 0; r < rows && drop > 0; r++) {
            int lead = 0;
            while (lead < drop && mask[r * length + lead] == 0) {
                lead++;
            }
            drop = Math.min(drop, lead);
        }
        if (drop == 0 || rows == 0) {
            return this;
        }
        int[] all = new int[rows];
        for (int r = 0; r < rows; r++) {
            all[r] = r;
        }
        return copy(all, length - drop);
    }

    KvCache padTo(int len) {
        if (len == length) {
            return this;
        }
        int[] all = new int[rows];
        for (int r = 0; r < rows; r++) {
            all[r] = r;
        }
        return copy(all, len);
    }

    /** Copies rows into a cache of length {@code len}, aligned on the right (left-padding or left-trimming). */
    private KvCache copy(int[] src, int len) {
        int n = src.length;
        float[][] k = new float[layers][n * kvHeads * len * headDim];
        float[][] v = new float[layers][n * kvHeads * len * headDim];
        long[] m = new long[n * len];
        int keepLen = Math.min(len, length);
        for (int i = 0; i < n; i++) {
            int r = src[i];
            System.arraycopy(mask, r * length + (length - keepLen), m, i * len + (len - keepLen), keepLen);
            for (int l = 0; l < layers; l++) {
                for (int h = 0; h < kvHeads; h++) {
                    int from = ((r * kvHeads + h) * length + (length - keepLen)) * headDim;
                    int to = ((i * kvHeads + h) * len + (len - keepLen)) * headDim;
                    System.arraycopy(keys(l), from, k[l], to, keepLen * headDim);
                    System.arraycopy(values(l), from, v[l], to, keepLen * headDim);
                }
            }
        }
        return new KvCache(layers, kvHeads, headDim, n, len, k, v, m);
    }
}

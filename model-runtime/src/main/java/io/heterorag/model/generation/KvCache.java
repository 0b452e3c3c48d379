package io.heterorag.model.generation;

/**
 * The decoder's key/value cache for a batch, on the host: per layer a key and a value array of shape
 * [rows, kvHeads, length, headDim], plus the attention mask [rows, length] (0 on left padding).
 * Rows are the batch's sequences in order; joining sequences are left-padded to a common length.
 */
final class KvCache {

    final int layers;
    final int kvHeads;
    final int headDim;
    final int rows;
    final int length;
    final float[][] keys;
    final float[][] values;
    final long[] mask;

    KvCache(int layers, int kvHeads, int headDim, int rows, int length, float[][] keys, float[][] values, long[] mask) {
        this.layers = layers;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.rows = rows;
        this.length = length;
        this.keys = keys;
        this.values = values;
        this.mask = mask;
    }

    static KvCache empty(int layers, int kvHeads, int headDim, int rows) {
        float[][] k = new float[layers][0];
        float[][] v = new float[layers][0];
        return new KvCache(layers, kvHeads, headDim, rows, 0, k, v, new long[0]);
    }

    /** The given rows, in that order. */
    KvCache keep(int[] rowsToKeep) {
        return copy(rowsToKeep, length);
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
            System.arraycopy(a.keys[l], 0, k[l], 0, a.rows * slab);
            System.arraycopy(b.keys[l], 0, k[l], a.rows * slab, b.rows * slab);
            System.arraycopy(a.values[l], 0, v[l], 0, a.rows * slab);
            System.arraycopy(b.values[l], 0, v[l], a.rows * slab, b.rows * slab);
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
                    System.arraycopy(keys[l], from, k[l], to, keepLen * headDim);
                    System.arraycopy(values[l], from, v[l], to, keepLen * headDim);
                }
            }
        }
        return new KvCache(layers, kvHeads, headDim, n, len, k, v, m);
    }
}

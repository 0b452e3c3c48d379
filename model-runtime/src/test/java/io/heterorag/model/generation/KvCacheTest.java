package io.heterorag.model.generation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class KvCacheTest {

    /** One layer, one head, head_dim 1: row r's value at position p is 10 r + p + 1. */
    static KvCache cache(int rows, int length, int base) {
        float[] k = new float[rows * length];
        long[] m = new long[rows * length];
        for (int r = 0; r < rows; r++) {
            for (int p = 0; p < length; p++) {
                k[r * length + p] = 10 * (r + base) + p + 1;
                m[r * length + p] = 1;
            }
        }
        return new KvCache(1, 1, 1, rows, length, new float[][] {k}, new float[][] {k.clone()}, m);
    }

    @Test
    void concatLeftPadsTheShorterCacheWithMaskZero() {
        KvCache joined = cache(1, 3, 0).concat(cache(1, 1, 5));
        assertEquals(2, joined.rows);
        assertEquals(3, joined.length);
        assertArrayEquals(new float[] {1, 2, 3, 0, 0, 51}, joined.keys[0]);
        assertArrayEquals(new long[] {1, 1, 1, 0, 0, 1}, joined.mask);
    }

    @Test
    void keepingRowsAndTrimmingSharedPaddingShortensTheCache() {
        KvCache joined = cache(1, 3, 0).concat(cache(2, 1, 5));
        KvCache short2 = joined.keep(new int[] {2, 1}).trimPadding();
        assertEquals(1, short2.length);
        assertArrayEquals(new float[] {61, 51}, short2.values[0]);
        assertArrayEquals(new long[] {1, 1}, short2.mask);
    }
}

package io.heterorag.model.generation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

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
        assertArrayEquals(new float[] {1, 2, 3, 0, 0, 51}, joined.keys(0));
        assertArrayEquals(new long[] {1, 1, 1, 0, 0, 1}, joined.mask);
    }

    @Test
    void keepingRowsAndTrimmingSharedPaddingShortensTheCache() {
        KvCache joined = cache(1, 3, 0).concat(cache(2, 1, 5));
        KvCache short2 = joined.keep(new int[] {2, 1}).trimPadding();
        assertEquals(1, short2.length);
        assertArrayEquals(new float[] {61, 51}, short2.values(0));
        assertArrayEquals(new long[] {1, 1}, short2.mask);
    }

    @Test
    void keepingEveryRowInOrderIsTheSameCacheAndAnyOtherSelectionACopy() {
        KvCache c = cache(2, 2, 0);
        assertSame(c, c.keep(new int[] {0, 1}));
        KvCache swapped = c.keep(new int[] {1, 0});
        assertArrayEquals(new float[] {11, 12, 1, 2}, swapped.keys(0));
        KvCache first = c.keep(new int[] {0});
        assertEquals(1, first.rows);
        assertArrayEquals(new float[] {1, 2}, first.values(0));
    }

    @Test
    void trimmingDropsOnlyThePaddingSharedByEveryRow() {
        // row 0 mask [0 0 1 1], row 1 [0 1 1 1]: one shared padded position
        long[] mask = {0, 0, 1, 1, 0, 1, 1, 1};
        float[] k = {0, 0, 3, 4, 0, 12, 13, 14};
        KvCache c = new KvCache(1, 1, 1, 2, 4, new float[][] {k}, new float[][] {k.clone()}, mask);
        KvCache t = c.trimPadding();
        assertEquals(3, t.length);
        assertArrayEquals(new long[] {0, 1, 1, 1, 1, 1}, t.mask);
        assertArrayEquals(new float[] {0, 3, 4, 12, 13, 14}, t.keys(0));
        assertSame(t, t.trimPadding(), "nothing shared is left");
        // a single row that is all padding is trimmed to nothing
        KvCache empty = new KvCache(1, 1, 1, 1, 2, new float[][] {{0, 0}}, new float[][] {{0, 0}}, new long[] {0, 0}).trimPadding();
        assertEquals(0, empty.length);
        assertSame(c, c.padTo(4));
        assertSame(c, KvCache.empty(1, 1, 1, 0).concat(c), "an empty batch joined by another is the other");
    }
}

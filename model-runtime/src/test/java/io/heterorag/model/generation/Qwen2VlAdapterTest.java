package io.heterorag.model.generation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class Qwen2VlAdapterTest {

    static final Qwen2VlAdapter.Patching QWEN = new Qwen2VlAdapter.Patching(14, 2, 2, 56 * 56, 28 * 28 * 1280,
            new float[] {0, 0, 0}, new float[] {1, 1, 1}, 1 / 255.0);

    @Test
    void smartResizeRoundsToMultiplesOf28WithinThePixelBounds() {
        assertArrayEquals(new int[] {476, 644}, QWEN.resized(480, 640)); // round(480/28)=17, round(640/28)=23
        assertArrayEquals(new int[] {56, 56}, QWEN.resized(20, 20)); // under min_pixels: scaled up
        int[] big = QWEN.resized(4000, 3000); // over max_pixels: scaled down, floored
        assertEquals(0, big[0] % 28);
        assertEquals(0, big[1] % 28);
        assertEquals(true, big[0] * big[1] <= 28 * 28 * 1280);
        assertArrayEquals(new int[] {1148, 840}, big); // 4000 / 3.458 / 28 = 41.3, 3000 / 3.458 / 28 = 30.98: floored
    }

    @Test
    void patchesAreInTheProcessorsOrder() {
        // a 56 x 28 (h x w) frame: grid 4 x 2 patches, merged 2 x 1; value = channel * 10000 + y * 100 + x
        int h = 56, w = 28;
        float[] chw = new float[3 * h * w];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    chw[(c * h + y) * w + x] = c * 10000 + y * 100 + x;
                }
            }
        }
        float[] p = QWEN.patchify(chw, h, w);
        int dim = 3 * 2 * 14 * 14;
        assertEquals(8 * dim, p.length);
        // patch order (h/2, w/2, 2, 2): row 0 = patch (0,0), 1 = (0,1), 2 = (1,0), 3 = (1,1), 4 = (2,0) ...
        assertEquals(0, p[0]);
        assertEquals(14, p[dim]); // patch (0,1) starts at x 14
        assertEquals(1400, p[2 * dim]); // patch (1,0) starts at y 14
        assertEquals(2800, p[4 * dim]); // the second merge block starts at y 28
        // inside a patch: C, T, P, P; both temporal slots hold the same frame
        assertEquals(1, p[1]);
        assertEquals(100, p[14]);
        assertEquals(0, p[14 * 14]); // T = 1, same frame
        assertEquals(10000, p[2 * 14 * 14]); // channel 1
    }

    @Test
    void ropeIndexFollowsGetRopeIndex() {
        // [vision_start] + 2x3 image tokens (t 1, h 2, w 3) + [vision_end] + 2 text tokens
        int img = 4;
        int[] ids = {5, img, img, img, img, img, img, 6, 20, 21};
        Qwen2VlAdapter.RopeIndex r = Qwen2VlAdapter.ropeIndex(ids, img, 1, 2, 3);
        assertArrayEquals(new long[] {0, 1, 1, 1, 1, 1, 1, 4, 5, 6}, r.positions()[0]);
        assertArrayEquals(new long[] {0, 1, 1, 1, 2, 2, 2, 4, 5, 6}, r.positions()[1]);
        assertArrayEquals(new long[] {0, 1, 2, 3, 1, 2, 3, 4, 5, 6}, r.positions()[2]);
        // max position 6 + 1 - 10 tokens: the next token (index 10) gets position 7
        assertEquals(-3, r.delta());
        Qwen2VlAdapter.RopeIndex text = Qwen2VlAdapter.ropeIndex(new int[] {9, 8}, img, 0, 0, 0);
        assertArrayEquals(new long[] {0, 1}, text.positions()[2]);
        assertEquals(0, text.delta());
    }
}

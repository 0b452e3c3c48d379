package io.heterorag.tuning.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

/**
 * ModCLIP's augmentation pixel by pixel (plain Java: no PyTorch, so a plain unit test). The shift and
 * flip come from the caller's Random, drawn in a fixed order: flip, dx, dy.
 */
class ModClipTrainerTest {

    static final int SIDE = 16;

    /** Pixel (x, y) of the source image = 100 y + x + 1 (darkest 1 at (0, 0)). */
    static float[] image(int offset) {
        float[] px = new float[offset + SIDE * SIDE + 3];
        for (int y = 0; y < SIDE; y++) {
            for (int x = 0; x < SIDE; x++) {
                px[offset + y * SIDE + x] = 100 * y + x + 1;
            }
        }
        return px;
    }

    /** The draws augment makes with this seed. */
    record Draw(boolean flip, int dx, int dy) {
        static Draw of(long seed) {
            Random r = new Random(seed);
            boolean flip = r.nextBoolean();
            return new Draw(flip, r.nextInt(5) - 2, r.nextInt(5) - 2);
        }
    }

    /** The expected output, written out from the definition: flip, then shift by (dx, dy), the uncovered pixels take the minimum. */
    static float[] expected(Draw d, float fill) {
        float[] out = new float[SIDE * SIDE];
        for (int y = 0; y < SIDE; y++) {
            for (int x = 0; x < SIDE; x++) {
                int ux = x - d.dx();
                int uy = y - d.dy();
                int sx = d.flip() ? SIDE - 1 - x - d.dx() : ux;
                boolean inside = sx >= 0 && sx < SIDE && uy >= 0 && uy < SIDE;
                out[y * SIDE + x] = inside ? 100 * uy + sx + 1 : fill;
            }
        }
        return out;
    }

    @Test
    void augmentFlipsAndShiftsByAtMostAnEighthAndFillsWithTheDarkestValue() {
        Set<Draw> seen = new HashSet<>();
        for (long s = 0; s < 1000; s++) {
            // spread seeds: the first draws of consecutive small seeds are correlated
            long seed = s * 0x9E3779B97F4A7C15L;
            Draw d = Draw.of(seed);
            seen.add(d);
            float[] src = image(5);
            float[] dst = new float[7 + SIDE * SIDE + 2];
            ModClipTrainer.augment(src, 5, dst, 7, SIDE, new Random(seed));
            float[] got = java.util.Arrays.copyOfRange(dst, 7, 7 + SIDE * SIDE);
            assertArrayEquals(expected(d, 1f), got, "seed " + seed + " " + d);
            assertEquals(0f, dst[6], "nothing written before the target");
            assertEquals(0f, dst[7 + SIDE * SIDE], "nothing written after it");
        }
        // every flip and every shift of -2..2 (16 / 8) in both axes occurs
        assertEquals(50, seen.size());
    }

    @Test
    void theFillIsTheSourceImagesOwnMinimum() {
        float[] src = image(0);
        for (int i = 0; i < SIDE * SIDE; i++) {
            src[i] += 40;
        }
        src[5 * SIDE + 7] = 3; // the darkest pixel, not the first one
        src[SIDE * SIDE] = -999; // outside the image: not its minimum
        long seed = 0;
        while (Draw.of(seed).dx() == 0 && Draw.of(seed).dy() == 0) {
            seed++;
        }
        float[] dst = new float[SIDE * SIDE];
        ModClipTrainer.augment(src, 0, dst, 0, SIDE, new Random(seed));
        float min = Float.MAX_VALUE;
        for (float v : dst) {
            min = Math.min(min, v);
        }
        assertEquals(3f, min);
        assertTrue(java.util.stream.IntStream.range(0, dst.length).filter(i -> dst[i] == 3f).count() > 1, "uncovered pixels filled");
    }

    @Test
    void aBundleGoesUnderItsNameAndVersion() {
        assertEquals(Path.of("/m/modclip-radiology-3"), ModClipTrainer.bundleDir(Path.of("/m"), "modclip-radiology", "3"));
        assertEquals(List.of(1, 2), List.of(new ModClipTrainer.Data(new float[0], new float[1][2]).size(),
                new ModClipTrainer.Data(new float[0], new float[2][2]).size()));
    }
}

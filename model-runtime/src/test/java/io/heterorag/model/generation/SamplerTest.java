package io.heterorag.model.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class SamplerTest {

    static DecodingOptions sampling(float temperature, float topP, int topK, long seed, float penalty) {
        return new DecodingOptions(16, temperature, topP, topK, seed, penalty, List.of(), List.of());
    }

    static final float[] LOGITS = {1f, 3f, 2.5f, 0f, -1f, 2.9f};

    @Test
    void greedyTakesTheArgmax() {
        assertEquals(1, Sampler.pick(LOGITS, DecodingOptions.greedy(4), new SplittableRandom(0), null, null));
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        BitSet seen = new BitSet();
        seen.set(1);
        // 3 / 1.5 = 2 < 2.9: token 5 wins
        assertEquals(5, Sampler.pick(LOGITS, sampling(0, 1, 0, 0, 1.5f), new SplittableRandom(0), seen, null));
    }

    @Test
    void topKOneIsGreedyAndTopPKeepsOnlyTheSmallestNucleus() {
        for (long seed = 0; seed < 50; seed++) {
            assertEquals(1, Sampler.pick(LOGITS, sampling(1, 1, 1, seed, 1), new SplittableRandom(seed), null, null));
            int p = Sampler.pick(LOGITS, sampling(1, 0.6f, 0, seed, 1), new SplittableRandom(seed), null, null);
            assertTrue(p == 1 || p == 5, "top-p 0.6 keeps tokens 1 and 5 only, got " + p);
        }
    }

    @Test
    void sameSeedSameSampleAndSamplingFollowsTheDistribution() {
        int[] counts = new int[LOGITS.length];
        SplittableRandom a = new SplittableRandom(42);
        SplittableRandom b = new SplittableRandom(42);
        DecodingOptions o = sampling(1, 1, 0, 42, 1);
        for (int i = 0; i < 4000; i++) {
            int x = Sampler.pick(LOGITS, o, a, null, null);
            assertEquals(x, Sampler.pick(LOGITS, o, b, null, null));
            counts[x]++;
        }
        double z = 0;
        for (float l : LOGITS) {
            z += Math.exp(l);
        }
        for (int t = 0; t < LOGITS.length; t++) {
            double expected = 4000 * Math.exp(LOGITS[t]) / z;
            assertTrue(Math.abs(counts[t] - expected) < 5 * Math.sqrt(expected) + 5, "token " + t + ": " + counts[t] + " vs " + expected);
        }
        assertNotEquals(0, counts[2], "not greedy");
    }
}

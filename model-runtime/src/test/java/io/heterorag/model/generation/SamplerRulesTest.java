package io.heterorag.model.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** The sampler's rules at their edges: which tokens the penalty touches, the nucleus cut, ties, large logits. */
class SamplerRulesTest {

    static DecodingOptions o(float temperature, float topP, int topK, float penalty) {
        return new DecodingOptions(16, temperature, topP, topK, 0, penalty, List.of(), List.of());
    }

    static BitSet seen(int... tokens) {
        BitSet b = new BitSet();
        for (int t : tokens) {
            b.set(t);
        }
        return b;
    }

    /** How often each token is drawn in n draws from one seeded generator. */
    static int[] counts(float[] logits, DecodingOptions opt, int n) {
        int[] c = new int[logits.length];
        SplittableRandom rng = new SplittableRandom(7);
        for (int i = 0; i < n; i++) {
            c[Sampler.pick(logits, opt, rng, null, null)]++;
        }
        return c;
    }

    @Test
    void thePenaltyTouchesSeenTokensOnlyAndZeroMeansOff() {
        // token 0 is seen: 3 / 2 = 1.5 < 2.5
        assertEquals(1, Sampler.pick(new float[] {3f, 2.5f}, o(0, 1, 0, 2f), new SplittableRandom(0), seen(0), null));
        // a negative logit is multiplied: -1 * 2 = -2 < -1.5
        assertEquals(1, Sampler.pick(new float[] {-1f, -1.5f}, o(0, 1, 0, 2f), new SplittableRandom(0), seen(0), null));
        // penalty 0 is off (not a division by zero)
        assertEquals(1, Sampler.pick(new float[] {1f, 3f}, o(0, 1, 0, 0f), new SplittableRandom(0), seen(0), null));
        // a seen id beyond the logits is ignored
        assertEquals(0, Sampler.pick(new float[] {3f, 1f}, o(0, 1, 0, 2f), new SplittableRandom(0), seen(2, 5), null));
        // the logits are not changed in place
        float[] logits = {3f, 2.5f};
        Sampler.pick(logits, o(0, 1, 0, 2f), new SplittableRandom(0), seen(0), null);
        assertEquals(3f, logits[0]);
    }

    @Test
    void tiesGoToTheLowerIdAndAConstrainedDrawNeverLeavesTheAllowedTokens() {
        assertEquals(0, Sampler.argmax(new float[] {2f, 2f, 1f}));
        assertEquals(2, Sampler.argmax(new float[] {1f, 2f, 3f}));
        for (long seed = 0; seed < 50; seed++) {
            assertEquals(2, Sampler.pick(new float[] {5f, 4f, 0f}, o(1, 1, 0, 1), new SplittableRandom(seed), null, new int[] {2}));
        }
    }

    @Test
    void theNucleusIsTheSmallestPrefixReachingTopP() {
        // two equal logits: 0.5 each; top-p 0.5 is reached by the first (the lower id) alone
        int[] half = counts(new float[] {0f, 0f}, o(1, 0.5f, 0, 1), 400);
        assertEquals(400, half[0]);
        // top-p 0.6 of {3, 2.9, ...}: tokens 1 and 5 (0.37 + 0.33 ≥ 0.6), both drawn, about 0.53 / 0.47
        int[] nucleus = counts(SamplerTest.LOGITS, o(1, 0.6f, 0, 1), 2000);
        assertEquals(2000, nucleus[1] + nucleus[5]);
        assertTrue(nucleus[5] > 800 && nucleus[5] < 1100, "token 5: " + nucleus[5]);
        // top-p 0 is off: every token can come
        int[] off = counts(new float[] {0f, 0f}, o(1, 0f, 0, 1), 400);
        assertTrue(off[1] > 150, "token 1: " + off[1]);
    }

    @Test
    void temperatureScalesTheLogitsAndLargeLogitsDoNotOverflow() {
        // temperature 0.5 doubles the gap: p(0) = 1 / (1 + e^-2) = 0.881
        int[] c = counts(new float[] {1f, 0f}, o(0.5f, 1, 0, 1), 4000);
        assertEquals(0.881, c[0] / 4000.0, 0.02);
        // 400 and 399 at temperature 0.5: the same 0.881, no infinity
        int[] big = counts(new float[] {400f, 399f}, o(0.5f, 1, 0, 1), 4000);
        assertEquals(0.881, big[0] / 4000.0, 0.02);
    }
}

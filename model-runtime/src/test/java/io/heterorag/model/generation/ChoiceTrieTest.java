package io.heterorag.model.generation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class ChoiceTrieTest {

    static final int EOS = 3;

    @Test
    void onlyTheChoicesTokensAreAllowedAndTheLeafNamesTheChoice() {
        // "no" = [10], "no change" = [10, 11], "yes" = [12]
        ChoiceTrie t = new ChoiceTrie(List.of(new int[] {10}, new int[] {10, 11}, new int[] {12}), EOS);
        assertArrayEquals(new int[] {10, 12}, t.root().allowed());
        ChoiceTrie.Node no = t.root().next(10);
        assertArrayEquals(new int[] {EOS, 11}, no.allowed());
        assertTrue(no.next(EOS).isLeaf());
        assertEquals(0, no.next(EOS).choice);
        assertEquals(1, no.next(11).next(EOS).choice);
        assertEquals(2, t.root().next(12).next(EOS).choice);
        assertNull(t.root().next(11));
    }

    @Test
    void equalChoicesKeepTheFirstAndAChoiceWithTheEndTokenIsRefused() {
        ChoiceTrie t = new ChoiceTrie(List.of(new int[] {7}, new int[] {7}), EOS);
        assertEquals(0, t.root().next(7).next(EOS).choice);
        assertThrows(IllegalArgumentException.class, () -> new ChoiceTrie(List.<int[]>of(new int[] {7, EOS}), EOS));
    }

    @Test
    void constrainedSamplingPicksTheBestAllowedToken() {
        float[] logits = {0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0, 5};
        ChoiceTrie t = new ChoiceTrie(List.of(new int[] {10}, new int[] {11}), EOS);
        int pick = Sampler.pick(logits, DecodingOptions.greedy(4), new java.util.SplittableRandom(1), null, t.root().allowed());
        assertEquals(10, pick, "12 has the highest logit but is not a choice");
    }
}

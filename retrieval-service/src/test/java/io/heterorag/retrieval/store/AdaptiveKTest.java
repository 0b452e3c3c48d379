package io.heterorag.retrieval.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;

class AdaptiveKTest {

    @Test
    void cutsWhereTheSimilarityRatioDrops() {
        assertEquals(3, AdaptiveK.choose(List.of(0.90f, 0.88f, 0.86f, 0.50f, 0.49f), 0.9, 1));
        assertEquals(5, AdaptiveK.choose(List.of(0.90f, 0.88f, 0.86f, 0.85f, 0.84f), 0.9, 1), "no drop: keep all");
        assertEquals(1, AdaptiveK.choose(List.of(0.90f, 0.30f, 0.29f), 0.9, 1));
        assertEquals(2, AdaptiveK.choose(List.of(0.90f, 0.30f, 0.29f), 0.9, 2), "never below min k");
        assertEquals(1, AdaptiveK.choose(List.of(0.5f, -0.1f), 0.9, 1), "a non-positive similarity is a drop");
        assertEquals(0, AdaptiveK.choose(List.of(), 0.9, 1));
    }

    @Test
    void theBoundariesOfTheCut() {
        assertEquals(2, AdaptiveK.choose(List.of(1f, 0.5f), 0.5, 1), "a ratio exactly at the threshold is no drop");
        assertEquals(1, AdaptiveK.choose(List.of(1f, 0.49f), 0.5, 1));
        assertEquals(1, AdaptiveK.choose(List.of(0f, 0.5f), 0.5, 1), "a zero similarity before a positive one is a drop");
        assertEquals(1, AdaptiveK.choose(List.of(0.5f, 0f), 0, 1), "a zero similarity is a drop even at ratio 0");
        assertEquals(2, AdaptiveK.choose(List.of(0.5f, 0.01f), 0, 1), "any positive similarity passes ratio 0");
        assertEquals(1, AdaptiveK.choose(List.of(0.9f), 0.9, 3), "min k never exceeds the list");
        assertEquals(3, AdaptiveK.choose(List.of(0.9f, 0.1f, 0.09f, 0.08f), 0.9, 3));
    }
}

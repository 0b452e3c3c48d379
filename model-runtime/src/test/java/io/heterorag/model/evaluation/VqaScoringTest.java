package io.heterorag.model.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class VqaScoringTest {

    @Test
    void normalisesCaseSpaceAndTrailingPunctuation() {
        assertEquals("yes", VqaScoring.normalize("  Yes. "));
        assertEquals("left lung", VqaScoring.normalize("Left lung!?"));
        assertEquals("t1-weighted", VqaScoring.normalize("T1-weighted"));
        assertTrue(VqaScoring.exact("YES", "yes."));
        assertFalse(VqaScoring.exact("no", "yes"));
        assertFalse(VqaScoring.exact("left lung", "lung"));
    }

    @Test
    void openRecallIsTheShareOfGoldTokensInThePrediction() {
        // gold [left, lung]; the prediction has "lung" only: 1/2
        assertEquals(0.5, VqaScoring.recall("the right lung", "Left lung"), 1e-12);
        // gold [in, the, canals, of, hering]; prediction has in, the, canals: 3/5
        assertEquals(0.6, VqaScoring.recall("in the canals", "in the canals of hering"), 1e-12);
        assertEquals(1.0, VqaScoring.recall("there is a mass in the liver", "liver"), 1e-12);
        assertEquals(0.0, VqaScoring.recall("", "liver"), 1e-12);
    }
}

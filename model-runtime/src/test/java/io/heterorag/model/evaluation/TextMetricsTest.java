package io.heterorag.model.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.Test;

class TextMetricsTest {

    @Test
    void tokensAreLowerCaseWordsWithoutPunctuation() {
        assertEquals(List.of("no", "acute", "fracture", "t12", "l1"), TextMetrics.tokens("No acute fracture (T12-L1)."));
        assertEquals(List.of(), TextMetrics.tokens(" ... "));
    }

    @Test
    void corpusBleuPoolsClippedPrecisionsAndPenalisesAShortCorpus() {
        // pair 1: "the cat is on the mat" (6 tokens) against "the cat is on the red mat" (7)
        //   1-grams 6/6 (the×2 clipped to the reference's 2), 2-grams 4/5 ("the mat" misses),
        //   3-grams 3/4 ("on the mat" misses), 4-grams 2/3 ("is on the mat" misses)
        // pair 2: "a dog" (2) against "a dog barked loudly" (4): 1-grams 2/2, 2-grams 1/1, no 3- or 4-grams
        // pooled: p1 = 8/8, p2 = 5/6, p3 = 3/4, p4 = 2/3; c = 8 < r = 11: BP = exp(1 - 11/8) = exp(-0.375) = 0.68729
        // BLEU-1 = 0.68729; BLEU-4 = 0.68729 * (1 * 5/6 * 3/4 * 2/3)^(1/4) = 0.68729 * (5/12)^0.25 = 0.55219
        List<String> cand = List.of("The cat is on the mat.", "A dog");
        List<String> ref = List.of("the cat is on the red mat", "a dog barked loudly");
        assertEquals(Math.exp(-0.375), TextMetrics.bleu(cand, ref, 1), 1e-12);
        assertEquals(Math.exp(-0.375) * Math.pow(5.0 / 12, 0.25), TextMetrics.bleu(cand, ref, 4), 1e-12);
        assertEquals(0.55219, TextMetrics.bleu(cand, ref, 4), 1e-5);
    }

    @Test
    void aLongerCandidateIsNotPenalisedAndAMissingOrderScoresZero() {
        // c = 4 > r = 3: BP = 1; p1 = 3/4 ("d" is not in the reference)
        assertEquals(0.75, TextMetrics.bleu(List.of("a b c d"), List.of("a b c"), 1), 1e-12);
        // "b a" shares both words with "a b" but no bigram: p2 = 0, unsmoothed BLEU-2 = 0
        assertEquals(0.0, TextMetrics.bleu(List.of("b a"), List.of("a b"), 2));
        assertEquals(0.0, TextMetrics.bleu(List.of(""), List.of("a b"), 1));
        assertThrows(IllegalArgumentException.class, () -> TextMetrics.bleu(List.of("a"), List.of(), 1));
    }

    @Test
    void rougeLIsTheLcsFMeasureAveragedOverPairs() {
        // pair 1: LCS("the cat sat on the mat", "the cat is on the mat") = "the cat on the mat" = 5;
        //   P = 5/6, R = 5/6, F = 5/6
        // pair 2: LCS("a b c d", "b d e") = "b d" = 2; P = 2/4, R = 2/3, F = 2·(1/2)(2/3)/(1/2 + 2/3) = 4/7
        // mean = (5/6 + 4/7) / 2 = 59/84 = 0.70238
        assertEquals(5, TextMetrics.lcs(TextMetrics.tokens("the cat sat on the mat"), TextMetrics.tokens("the cat is on the mat")));
        assertEquals(4.0 / 7, TextMetrics.rougeL("a b c d", "b d e"), 1e-12);
        assertEquals(59.0 / 84, TextMetrics.rougeL(List.of("the cat sat on the mat", "a b c d"),
                List.of("the cat is on the mat", "b d e")), 1e-12);
        assertEquals(0.0, TextMetrics.rougeL("x y", "a b"));
    }
}

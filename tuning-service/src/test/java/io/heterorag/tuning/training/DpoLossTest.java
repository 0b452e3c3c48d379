package io.heterorag.tuning.training;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The DPO loss of one pair, plain Java (no PyTorch: DpoJobTest checks the batched DJL loss against it):
 * loss = softplus(−z), z = β[(πθ(w) − π_ref(w)) − (πθ(l) − π_ref(l))], with each difference's sign
 * and β's scale visible, and stable far from 0.
 */
class DpoLossTest {

    @Test
    void theLossIsSoftplusOfMinusTheScaledRewardDifference() {
        // z = 0.5·((−2 − −3) − (−4 − −3.5)) = 0.5·(1 + 0.5) = 0.75; log(1 + e^−0.75)
        assertEquals(0.38687100611489994, DpoTrainer.loss(-2, -3, -4, -3.5, 0.5), 1e-12);
        // z = 0.1·((−5 − −3) − (−1 − −2.5)) = 0.1·(−2 − 1.5) = −0.35; log(1 + e^0.35)
        assertEquals(0.8833821554187771, DpoTrainer.loss(-5, -3, -1, -2.5, 0.1), 1e-12);
        // policy = reference on both sides: z = 0, log 2 whatever β
        assertEquals(Math.log(2), DpoTrainer.loss(-7, -7, -4, -4, 2), 1e-12);
    }

    @Test
    void theLossStaysFiniteFarFromZero() {
        // z = 1798: softplus(−1798) = log1p(e^−1798) = 0 (no overflow of e^1798)
        assertEquals(0.0, DpoTrainer.loss(-1, -900, -900, -1, 1), 1e-12);
        // z = −1798: softplus(1798) = 1798 + log1p(e^−1798) = 1798
        assertEquals(1798.0, DpoTrainer.loss(-900, -1, -1, -900, 1), 1e-9);
    }
}

package io.heterorag.model.generation;

import java.util.Arrays;
import java.util.BitSet;
import java.util.SplittableRandom;

/**
 * Picks the next token from one row of logits, in the order Hugging Face's generate applies its
 * processors: repetition penalty, constraint mask, then greedy (temperature 0) or temperature,
 * top-k, top-p and a draw from the request's own seeded generator (so batching never changes a sample).
 */
final class Sampler {

    private Sampler() {
    }

    /**
     * @param seen    tokens already in the sequence (prompt and generated), for the repetition penalty
     * @param allowed when not null, the only tokens that may be picked (constrained decoding)
     */
    static int pick(float[] logits, DecodingOptions o, SplittableRandom rng, BitSet seen, int[] allowed) {
        float[] l = logits.clone();
        float penalty = o.repetitionPenalty();
        if (penalty > 0 && penalty != 1f && seen != null) {
            for (int t = seen.nextSetBit(0); t >= 0 && t < l.length; t = seen.nextSetBit(t + 1)) {
                l[t] = l[t] > 0 ? l[t] / penalty : l[t] * penalty;
            }
        }
        if (allowed != null) {
            if (allowed.length == 0) {
                throw new IllegalStateException("constrained decoding has no allowed token");
            }
            float[] masked = new float[l.length];
            Arrays.fill(masked, Float.NEGATIVE_INFINITY);
            for (int t : allowed) {
                masked[t] = l[t];
            }
            l = masked;
        }
        if (o.temperature() <= 0f) {
            return argmax(l);
        }
        int n = l.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        float[] scaled = l;
        // stable sort by logit, highest first: ties keep the lower id first, so a seed fixes the outcome
        Arrays.sort(order, (a, b) -> Float.compare(scaled[b], scaled[a]));
        int keep = n;
        if (o.topK() > 0) {
            keep = Math.min(keep, o.topK());
        }
        while (keep > 1 && scaled[order[keep - 1]] == Float.NEGATIVE_INFINITY) {
            keep--;
        }
        double max = scaled[order[0]] / o.temperature();
        double[] p = new double[keep];
        double sum = 0;
        for (int i = 0; i < keep; i++) {
            p[i] = Math.exp(scaled[order[i]] / o.temperature() - max);
            sum += p[i];
        }
        if (o.topP() > 0f && o.topP() < 1f) {
            // smallest prefix whose probability reaches top-p (always at least the best token)
            double cum = 0;
            int cut = keep;
            for (int i = 0; i < keep; i++) {
                cum += p[i] / sum;
                if (cum >= o.topP()) {
                    cut = i + 1;
                    break;
                }
            }
            keep = cut;
            sum = 0;
            for (int i = 0; i < keep; i++) {
                sum += p[i];
            }
        }
        double r = rng.nextDouble() * sum;
        for (int i = 0; i < keep; i++) {
            r -= p[i];
            if (r < 0) {
                return order[i];
            }
        }
        return order[keep - 1];
    }

    static int argmax(float[] l) {
        int best = 0;
        for (int i = 1; i < l.length; i++) {
            if (l[i] > l[best]) {
                best = i;
            }
        }
        return best;
    }
}

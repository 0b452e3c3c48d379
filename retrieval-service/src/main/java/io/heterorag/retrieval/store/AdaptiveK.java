package io.heterorag.retrieval.store;

import java.util.List;

/**
 * How many of a ranked list to keep: cut before the first hit whose similarity falls below
 * {@code ratio} × the previous hit's (MMed-RAG's adaptive retrieval), but keep at least minK (and at
 * most the list's length). Similarities at or below zero count as a drop.
 */
public final class AdaptiveK {

    private AdaptiveK() {
    }

    public static int choose(List<Float> scores, double ratio, int minK) {
        int n = scores.size();
        int cut = n;
        for (int i = 1; i < n; i++) {
            float prev = scores.get(i - 1);
            float cur = scores.get(i);
            if (prev <= 0 || cur <= 0 || cur / prev < ratio) {
                cut = i;
                break;
            }
        }
        return Math.min(n, Math.max(minK, cut));
    }
}

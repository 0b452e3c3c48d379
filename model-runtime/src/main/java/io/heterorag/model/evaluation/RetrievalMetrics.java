package io.heterorag.model.evaluation;

import java.util.LinkedHashMap;
import java.util.Map;

/** Image→report recall@k where query i's own report is text i, over unit vectors (dot = cosine). */
public final class RetrievalMetrics {

    private RetrievalMetrics() {
    }

    /** "recall_at_K" for each k, plus "n" and "chance_at_5". */
    public static Map<String, Double> recall(float[][] images, float[][] texts, int... ks) {
        int n = images.length;
        if (n == 0 || texts.length != n) {
            throw new IllegalArgumentException("need one report per image, got " + n + " images and " + texts.length + " reports");
        }
        int[] hits = new int[ks.length];
        for (int i = 0; i < n; i++) {
            double own = dot(images[i], texts[i]);
            int rank = 0; // reports scoring strictly higher than the image's own
            for (int j = 0; j < n; j++) {
                if (j != i && dot(images[i], texts[j]) > own) {
                    rank++;
                }
            }
            for (int k = 0; k < ks.length; k++) {
                hits[k] += rank < ks[k] ? 1 : 0;
            }
        }
        Map<String, Double> out = new LinkedHashMap<>();
        for (int k = 0; k < ks.length; k++) {
            out.put("recall_at_" + ks[k], (double) hits[k] / n);
        }
        out.put("n", (double) n);
        out.put("chance_at_5", Math.min(1.0, 5.0 / n));
        return out;
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }
}

package io.heterorag.model.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;

import org.junit.jupiter.api.Test;

class RetrievalMetricsTest {

    @Test
    void countsTheOwnReportsRank() {
        float[][] images = {{1, 0}, {0, 1}, {1, 0}};
        // images 0 and 1 find their own report first; image 2's own report (0.8) is behind report 0 (1.0)
        float[][] texts = {{1, 0}, {0.6f, 0.8f}, {0.8f, 0.6f}};
        Map<String, Double> r = RetrievalMetrics.recall(images, texts, 1, 2);
        assertEquals(2.0 / 3, r.get("recall_at_1"), 1e-9);
        assertEquals(1.0, r.get("recall_at_2"), 1e-9);
        assertEquals(3.0, r.get("n"));
        assertEquals(1.0, r.get("chance_at_5"));
        assertThrows(IllegalArgumentException.class, () -> RetrievalMetrics.recall(images, new float[2][], 1));
    }

    @Test
    void aTieWithTheOwnReportDoesNotCountAgainstIt() {
        // both reports score 1 for both images: nothing strictly higher, so every own report ranks first
        float[][] same = {{1, 0}, {1, 0}};
        Map<String, Double> r = RetrievalMetrics.recall(same, same, 1);
        assertEquals(1.0, r.get("recall_at_1"), 1e-9);
        assertEquals(0.5, RetrievalMetrics.recall(new float[10][2], new float[10][2], 1).get("chance_at_5"), 1e-9);
        // images 0 and 1 have two reports strictly above their own (third: in the top 3, not the top 2); image 2 one
        float[][] images = {{1, 0}, {0, 1}, {0, 1}};
        float[][] texts = {{0, 1}, {0.8f, 0.6f}, {0.6f, 0.8f}};
        Map<String, Double> k = RetrievalMetrics.recall(images, texts, 2, 3);
        assertEquals(1.0 / 3, k.get("recall_at_2"), 1e-9);
        assertEquals(3.0 / 3, k.get("recall_at_3"), 1e-9);
        assertThrows(IllegalArgumentException.class, () -> RetrievalMetrics.recall(new float[0][], new float[0][], 1));
    }
}

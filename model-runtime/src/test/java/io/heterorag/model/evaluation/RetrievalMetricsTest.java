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
}

package io.heterorag.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class RankFusionTest {

    static VectorCollection.Hit hit(String id, float score) {
        String doc = id.contains("#") ? id.substring(0, id.indexOf('#')) : id;
        return new VectorCollection.Hit(id, score, "t", "x", Map.of("document_id", doc));
    }

    static List<String> ids(List<VectorCollection.Hit> hits) {
        return hits.stream().map(VectorCollection.Hit::id).toList();
    }

    @Test
    void rrfCountsEachDocumentOncePerListByItsBestChunk() {
        // dense: a's three chunks crowd the list; bm25: b first, a last
        List<VectorCollection.Hit> dense = List.of(hit("a#0", 0.9f), hit("a#1", 0.8f), hit("a#2", 0.7f), hit("b#0", 0.6f));
        List<VectorCollection.Hit> bm25 = List.of(hit("b#0", 9), hit("c#0", 5), hit("a#3", 1));
        List<VectorCollection.Hit> fused = RankFusion.fuse(List.of(dense, bm25), new double[] {1, 1}, RankFusion.Rule.RRF, 3);
        // a: 1/61 + 1/63; b: 1/62 + 1/61; c: 1/62
        assertEquals(List.of("b#0", "a#0", "c#0"), ids(fused));
        assertEquals(1.0 / 62 + 1.0 / 61, fused.get(0).score(), 1e-6);
    }

    @Test
    void zscoreKeepsHowFarAheadAHitIs() {
        // BM25 is sure of c (far ahead), dense slightly prefers a; RRF ranks them by rank only and ties
        List<VectorCollection.Hit> dense = List.of(hit("a", 0.51f), hit("c", 0.50f), hit("b", 0.49f));
        List<VectorCollection.Hit> bm25 = List.of(hit("c", 30), hit("a", 5), hit("b", 4));
        assertEquals(RankFusion.fuse(List.of(dense, bm25), new double[] {1, 1}, RankFusion.Rule.RRF, 3).get(0).score(),
                RankFusion.fuse(List.of(dense, bm25), new double[] {1, 1}, RankFusion.Rule.RRF, 3).get(1).score(), 1e-9);
        assertEquals(List.of("c", "a", "b"), ids(RankFusion.fuse(List.of(dense, bm25), new double[] {0.4, 0.6}, RankFusion.Rule.ZSCORE, 3)));
        // a document missing from a list gets that list's lowest score there: d ties with b, below a
        List<VectorCollection.Hit> only = RankFusion.fuse(List.of(List.of(hit("a", 0.9f), hit("b", 0.1f)), List.of(hit("d", 3))),
                new double[] {1, 1}, RankFusion.Rule.ZSCORE, 3);
        assertEquals("a", only.get(0).id());
        assertEquals(only.get(1).score(), only.get(2).score(), 1e-6);
    }
}

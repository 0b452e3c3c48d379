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

    @Test
    void zscoreFusesStandardisedScoresWithEachListsOwnWeight() {
        // dense (weight 0.4): a 0.75, b 0.5, c 0.25 → mean 0.5, population sd √(0.125/3) = √(1/24) = 0.2041241
        //   z: a = 0.25/0.2041241 = √1.5 = 1.2247449, b = 0, c = −1.2247449
        // bm25 (weight 0.6): c 6, a 3, b missing → mean 4.5, sd 1.5; z: c = +1, a = −1, b gets the list's lowest (3) → −1
        // fused: c = 0.4·(−1.2247449) + 0.6·1 = 0.1101021; a = 0.4·1.2247449 − 0.6 = −0.1101021; b = 0 − 0.6 = −0.6
        // (weights swapped, a would lead with 0.3348980: the test tells the two apart)
        List<VectorCollection.Hit> dense = List.of(hit("a", 0.75f), hit("b", 0.5f), hit("c", 0.25f));
        List<VectorCollection.Hit> bm25 = List.of(hit("c", 6), hit("a", 3));
        List<VectorCollection.Hit> fused = RankFusion.fuse(List.of(dense, bm25), new double[] {0.4, 0.6}, RankFusion.Rule.ZSCORE, 3);
        assertEquals(List.of("c", "a", "b"), ids(fused));
        assertEquals(0.4 * -Math.sqrt(1.5) + 0.6, fused.get(0).score(), 1e-6);
        assertEquals(0.1101021, fused.get(0).score(), 1e-6);
        assertEquals(-0.1101021, fused.get(1).score(), 1e-6);
        assertEquals(-0.6, fused.get(2).score(), 1e-6);
        // the hit keeps its best chunk's fields, with the fused score
        assertEquals("x", fused.get(0).text());
        assertEquals("c", fused.get(0).metadata().get("document_id"));
        // k limits the answer
        assertEquals(List.of("c"), ids(RankFusion.fuse(List.of(dense, bm25), new double[] {0.4, 0.6}, RankFusion.Rule.ZSCORE, 1)));
    }

    @Test
    void zscoreOfAListWhoseScoresAllButTieStaysFinite() {
        // a list whose scores are all equal says nothing: every document gets 0 from it, not NaN
        List<VectorCollection.Hit> flat = RankFusion.fuse(List.of(List.of(hit("a", 0.5f), hit("b", 0.5f))),
                new double[] {1}, RankFusion.Rule.ZSCORE, 2);
        assertEquals(0, flat.get(0).score(), 1e-9);
        assertEquals(0, flat.get(1).score(), 1e-9);
        // 2e-9 apart: mean 1e-9, sd 1e-9, plus the 1e-9 that guards the division → z = ±(1e-9 / 2e-9) = ±0.5
        List<VectorCollection.Hit> close = RankFusion.fuse(List.of(List.of(hit("a", 2e-9f), hit("b", 0f))),
                new double[] {1}, RankFusion.Rule.ZSCORE, 2);
        assertEquals(0.5, close.get(0).score(), 1e-3);
        assertEquals(-0.5, close.get(1).score(), 1e-3);
    }

    @Test
    void rrfWeighsEachListAndSkipsEmptyOnes() {
        // a: 2/61 (first in the dense list, weight 2); b: 1/61 (first in bm25, weight 1); the empty list adds nothing
        List<VectorCollection.Hit> fused = RankFusion.fuse(List.of(List.of(hit("a#0", 0.9f)), List.of(), List.of(hit("b#0", 7))),
                new double[] {2, 5, 1}, RankFusion.Rule.RRF, 5);
        assertEquals(List.of("a#0", "b#0"), ids(fused));
        assertEquals(2.0 / 61, fused.get(0).score(), 1e-7);
        assertEquals(1.0 / 61, fused.get(1).score(), 1e-7);
    }

    @Test
    void aHitWithoutDocumentIdIsItsOwnDocument() {
        assertEquals("x#3", RankFusion.document(new VectorCollection.Hit("x#3", 1, "t", "x", Map.of())));
        assertEquals("d", RankFusion.document(hit("d#3", 1)));
    }
}

package io.heterorag.retrieval.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.IntStream;

import ai.onnxruntime.OrtSession;
import io.heterorag.model.text.CrossEncoder;
import io.heterorag.model.text.CrossEncoderBundles;
import io.heterorag.proto.v1.SearchMode;
import io.heterorag.retrieval.SharedModels;
import io.heterorag.retrieval.model.Models;
import io.heterorag.store.LuceneCollection;
import io.heterorag.store.RankFusion;
import io.heterorag.store.VectorCollection;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The three search modes over a real embedded collection embedded by the real MiniLM: each mode
 * returns what its own lists give, hybrid fuses them with dense 0.4 and BM25 0.6 (recomputed here
 * from the two lists), and the configured cross-encoder reorders the fused top.
 */
class CorpusSearchModesTest {

    @TempDir
    static Path dir;

    static Models plain;
    static Models reranking;
    static VectorCollection corpus;

    static final List<String> TEXTS = List.of(
            "A pneumothorax is air in the pleural space that collapses the lung.",
            "Tension pneumothorax shifts the mediastinum and needs a chest tube.",
            "Pleural effusion is fluid in the pleural space, seen as blunting of the costophrenic angle.",
            "Renal cysts are fluid filled sacs of the kidney, usually benign.",
            "Hamartoma of the lung shows popcorn calcification on computed tomography.",
            "Appendicitis causes pain in the right lower quadrant.",
            "A chest tube drains air or fluid from the pleural space.");

    static Models models(Optional<Path> reranker) {
        return new Models(dir.resolve("data"), 0, "cpu", new SimpleMeterRegistry(), Optional.empty(), Optional.empty(),
                Optional.empty(), 16, 2000, Optional.empty(), reranker);
    }

    @BeforeAll
    static void load() {
        plain = SharedModels.get();
        if (reranking == null) { // once per JVM, like SharedModels
            reranking = models(Optional.of(CrossEncoderBundles.termCounter(dir.resolve("ce"), "tube", "drains")));
        }
        corpus = new LuceneCollection("corpus-test", dir.resolve("corpus"));
        float[][] v = plain.text().embed(TEXTS);
        corpus.upsert(IntStream.range(0, TEXTS.size()).mapToObj(i -> new VectorCollection.Entry("d" + i, "d" + i, "h", "Doc " + i,
                TEXTS.get(i), v[i], null, Map.of())).toList());
    }

    @AfterAll
    static void close() {
        corpus.close();
    }

    static List<String> ids(List<VectorCollection.Hit> hits) {
        return hits.stream().map(VectorCollection.Hit::id).toList();
    }

    @Test
    void keywordAndDenseReturnTheirOwnList() {
        CorpusSearch search = new CorpusSearch(plain, 50, "zscore", 0.6, 10);
        assertEquals(ids(corpus.keyword("pleural space", 3)), ids(search.search(corpus, "pleural space", SearchMode.KEYWORD, 3)));
        List<VectorCollection.Hit> dense = search.search(corpus, "collapsed lung", SearchMode.DENSE, 3);
        List<VectorCollection.Hit> exact = corpus.nearest(plain.embedQuery("collapsed lung"), 3, 50, Map.of());
        assertEquals(ids(exact), ids(dense));
        assertEquals(exact.get(0).score(), dense.get(0).score(), 1e-6);
        assertEquals(3, dense.size());
    }

    @Test
    void hybridFusesDenseAndBm25WithTheKeywordWeight() {
        // candidates 2 < k 3: each list still holds max(candidates, k) = 3 entries
        CorpusSearch search = new CorpusSearch(plain, 2, "zscore", 0.6, 10);
        String q = "air in the pleural space";
        List<VectorCollection.Hit> expected = RankFusion.fuse(List.of(corpus.nearest(plain.embedQuery(q), 3, 3, Map.of()),
                corpus.keyword(q, 3)), new double[] {0.4, 0.6}, RankFusion.Rule.ZSCORE, 10);
        List<VectorCollection.Hit> got = search.search(corpus, q, SearchMode.HYBRID, 3);
        assertEquals(ids(expected).subList(0, 3), ids(got));
        for (int i = 0; i < 3; i++) {
            assertEquals(expected.get(i).score(), got.get(i).score(), 1e-6, "fused score of " + got.get(i).id());
        }
        // reciprocal rank fusion by configuration: 0.4 / (60 + rank) + 0.6 / (60 + rank)
        List<VectorCollection.Hit> rrf = new CorpusSearch(plain, 2, "rrf", 0.6, 10).search(corpus, q, SearchMode.HYBRID, 3);
        List<VectorCollection.Hit> rrfExpected = RankFusion.fuse(List.of(corpus.nearest(plain.embedQuery(q), 3, 3, Map.of()),
                corpus.keyword(q, 3)), new double[] {0.4, 0.6}, RankFusion.Rule.RRF, 3);
        assertEquals(ids(rrfExpected), ids(rrf));
        assertEquals(rrfExpected.get(0).score(), rrf.get(0).score(), 1e-9);
    }

    @Test
    void hybridReturnsAtMostTheFusedDocumentsWhenKIsLarger() {
        List<VectorCollection.Hit> all = new CorpusSearch(plain, 50, "zscore", 0.6, 10).search(corpus, "pleural", SearchMode.HYBRID, 20);
        assertEquals(TEXTS.size(), all.size(), "every document is in the dense list, so all are fused");
    }

    @Test
    void theCrossEncoderReranksTheFusedTopOfDepthDocuments() {
        String q = "pleural space";
        CorpusSearch search = new CorpusSearch(reranking, 50, "zscore", 0.6, 4);
        List<VectorCollection.Hit> fused = new CorpusSearch(plain, 50, "zscore", 0.6, 4).search(corpus, q, SearchMode.HYBRID, 4);
        CrossEncoder ce = reranking.reranker().orElseThrow();
        float[] scores = ce.score(q, fused.stream().map(h -> h.title() + ". " + h.text()).toList());
        List<String> expected = IntStream.range(0, 4).boxed().sorted(Comparator.comparingDouble(i -> -scores[i]))
                .map(i -> fused.get(i).id()).toList().subList(0, 2);
        List<VectorCollection.Hit> got = search.search(corpus, q, SearchMode.HYBRID, 2);
        assertEquals(expected, ids(got));
        float[] sorted = scores.clone();
        Arrays.sort(sorted);
        assertEquals(sorted[3], got.get(0).score(), 1e-6, "the score is the cross-encoder's logit");
        // the reranker sees max(k, depth) documents: with k 5 > depth 4, the fifth fused document too
        assertEquals(5, search.search(corpus, q, SearchMode.HYBRID, 5).size());
    }

    @Test
    void methodSaysWhatRanksTheResults() {
        assertEquals("dense " + plain.text().name() + " + BM25, zscore fusion (BM25 weight 0.6), no cross-encoder configured: fused order",
                new CorpusSearch(plain, 50, "ZScore", 0.6, 10).method());
        assertEquals("dense " + plain.text().name() + " + BM25, rrf fusion (BM25 weight 0.3), top 7 reranked by cross-encoder "
                + reranking.reranker().orElseThrow().id(), new CorpusSearch(reranking, 50, "rrf", 0.3, 7).method());
    }

    @Test
    void anUnknownModeIsRefused() {
        CorpusSearch search = new CorpusSearch(plain, 50, "zscore", 0.6, 10);
        assertThrows(IllegalArgumentException.class, () -> search.search(corpus, "lung", SearchMode.UNRECOGNIZED, 3));
    }
}

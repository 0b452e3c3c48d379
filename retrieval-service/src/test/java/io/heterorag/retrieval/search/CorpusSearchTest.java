package io.heterorag.retrieval.search;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import ai.onnxruntime.OrtSession;
import io.heterorag.model.text.CrossEncoder;
import io.heterorag.model.text.CrossEncoderBundles;
import io.heterorag.store.VectorCollection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reranker slot with a cross-encoder bundle the project builds (its logit counts given words). */
class CorpusSearchTest {

    @TempDir
    Path dir;

    static VectorCollection.Hit hit(String id, String text) {
        return new VectorCollection.Hit(id, 1, "Chest", text, Map.of());
    }

    @Test
    void theCrossEncoderReordersTheFusedListAndItsScoresAreReturned() {
        try (CrossEncoder ce = CrossEncoder.load(CrossEncoderBundles.termCounter(dir, "pneumothorax", "tube"), new OrtSession.SessionOptions())) {
            List<VectorCollection.Hit> fused = List.of(hit("normal", "Normal chest radiograph."),
                    hit("ptx", "Large pneumothorax."), hit("tube", "Pneumothorax treated with a chest tube."));
            List<VectorCollection.Hit> reranked = CorpusSearch.rerank(ce, "collapsed lung", fused, 2);
            assertEquals(List.of("tube", "ptx"), reranked.stream().map(VectorCollection.Hit::id).toList());
            assertEquals(ce.score("collapsed lung", List.of("Chest. Large pneumothorax."))[0], reranked.get(1).score(), 1e-6);
        }
    }
}

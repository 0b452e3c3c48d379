package io.heterorag.retrieval.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.heterorag.proto.v1.Corpus;
import io.heterorag.retrieval.SharedModels;
import io.heterorag.retrieval.model.Models;
import io.heterorag.store.VectorCollection;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GRAPH corpus lookups over a real embedded collection and the real MiniLM, with entries laid
 * out as ingest writes them (terms embedded by name, relations by "relation tail").
 */
class TermGraphTest {

    @TempDir
    static Path dir;

    static Models models;
    static VectorStore store;
    static TermGraph graph;

    static VectorCollection.Entry term(String id, String name, String definition) {
        return new VectorCollection.Entry("term:" + id, "term:" + id, "h", name, definition, models.text().embed(List.of(name))[0], null,
                Map.of("kind", "term", "term_id", id));
    }

    static VectorCollection.Entry relation(String headId, String head, String rel, String tail) {
        String id = "rel:" + headId + "|" + rel + "|" + tail;
        return new VectorCollection.Entry(id, id, "h", head, head + " " + rel + " " + tail,
                models.text().embed(List.of(rel + " " + tail))[0], null, Map.of("kind", "relation", "head_id", headId));
    }

    @BeforeAll
    static void load() {
        models = SharedModels.get();
        store = new VectorStore(new CollectionFactory(dir.resolve("data"), "embedded", "localhost", 6334, false, " ", "t_", 16, 100,
                true, 1, 1, 256, 30));
        graph = new TermGraph(store, models);
        store.corpus(Corpus.GRAPH).upsert(List.of(
                term("t1", "Pneumothorax", "Air in the pleural space."),
                term("t2", "Lung, lobar collapse", "Collapse of one lobe of the lung."),
                term("t3", "Lung nodule", "A lung nodule is a small lung lesion; a nodule of the lung is often benign."),
                term("t4", "Nodule", "A small rounded lesion."),
                relation("t1", "Pneumothorax", "treated_by", "Chest tube"),
                relation("t1", "Pneumothorax", "causes", "Dyspnea"),
                relation("t1", "Pneumothorax", "seen_on", "Chest radiograph"),
                relation("t2", "Lung, lobar collapse", "causes", "Volume loss"),
                relation("t4", "Nodule", "evaluated_by", "Computed tomography")));
    }

    /** Cosine of two unit vectors. */
    static float dot(float[] a, float[] b) {
        float s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    static List<String> ids(List<VectorCollection.Hit> hits) {
        return hits.stream().map(VectorCollection.Hit::id).toList();
    }

    /** The term's entry, then its relations as a nearest search for the relation text ranks them. */
    static List<String> expected(String termId, String relationText, int k) {
        List<String> out = new ArrayList<>(List.of("term:" + termId));
        out.addAll(ids(store.corpus(Corpus.GRAPH).nearest(models.embedQuery(relationText), k, 50,
                Map.of("kind", "relation", "head_id", termId))));
        return out;
    }

    @Test
    void aTermAndRelationQueryGivesTheDefinitionThenThatTermsRelationsBestFirst() {
        List<VectorCollection.Hit> hits = graph.search("pneumothorax, treated_by", 2);
        assertEquals(expected("t1", "treated_by", 2), ids(hits));
        assertEquals(3, hits.size());
        assertEquals("Air in the pleural space.", hits.get(0).text());
        assertEquals("rel:t1|treated_by|Chest tube", hits.get(1).id());
        assertEquals(4, graph.search("Pneumothorax,causes", 5).size(), "the term and all three of its relations, no other term's");
    }

    @Test
    void withoutARelationPartTheRelationsAreRankedAgainstTheTermsName() {
        assertEquals(expected("t1", "Pneumothorax", 3), ids(graph.search("Pneumothorax", 3)));
    }

    @Test
    void aNameWithCommasIsSplitAtItsLastComma() {
        assertEquals(expected("t2", "causes", 1), ids(graph.search("Lung, lobar collapse,causes", 1)));
    }

    @Test
    void anExactNameBeatsABetterBm25HitAndOtherwiseTheBestBm25HitStands() {
        List<VectorCollection.Hit> byWords = store.corpus(Corpus.GRAPH).keyword("nodule", 10, Map.of("kind", "term"));
        assertEquals("term:t3", byWords.get(0).id(), "precondition: BM25 ranks the longer entry first");
        assertEquals("term:t4", graph.search("NODULE,evaluated_by", 1).get(0).id());
        assertEquals("term:t2", graph.search("collapse", 1).get(0).id(), "no exact name: the best BM25 hit");
    }

    @Test
    void withoutMatchingWordsAnameCloseInMeaningStandsForTheTermAndAnUnrelatedOneFindsNothing() {
        String misspelt = "pneumothorx";
        assertTrue(store.corpus(Corpus.GRAPH).keyword(misspelt, 10, Map.of("kind", "term")).isEmpty(), "precondition: no word matches");
        float sim = dot(models.embedQuery(misspelt), models.embedQuery("Pneumothorax"));
        assertTrue(sim >= TermGraph.MIN_NAME_SIMILARITY, "precondition: cosine " + sim);
        assertEquals(expected("t1", "treated_by", 1), ids(graph.search(misspelt + ",treated_by", 1)));

        assertEquals(List.of(), graph.search("quantum chromodynamics,causes", 3));
        assertEquals(List.of(), graph.search(",causes", 3), "an empty term finds nothing");
        assertEquals(List.of(), graph.search("   ", 3));
    }
}

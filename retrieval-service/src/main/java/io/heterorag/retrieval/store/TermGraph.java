package io.heterorag.retrieval.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import jakarta.inject.Singleton;

import io.heterorag.proto.v1.Corpus;
import io.heterorag.retrieval.model.Models;
import io.heterorag.store.VectorCollection;

/**
 * The GRAPH corpus as the method queries it: "term,relation" returns the term's definition, then the
 * term's relations ranked by the similarity of the relation text to the query's relation part.
 */
@Singleton
public class TermGraph {

    /** Cosine a name must reach to stand for a query term no word of which matches (a synonym, a misspelling). */
    static final float MIN_NAME_SIMILARITY = 0.6f;

    private final VectorStore store;
    private final Models models;

    public TermGraph(VectorStore store, Models models) {
        this.store = store;
        this.models = models;
    }

    /** The term's entry first (definition), then up to k of its relations, best first; empty if no term matches. */
    public List<VectorCollection.Hit> search(String query, int k) {
        // term names may hold commas ("Lung, lobar collapse"); the relation part is after the last one
        int comma = query.lastIndexOf(',');
        String term = (comma < 0 ? query : query.substring(0, comma)).strip();
        String relation = comma < 0 ? "" : query.substring(comma + 1).strip();
        VectorCollection graph = store.corpus(Corpus.GRAPH);
        VectorCollection.Hit found = findTerm(graph, term);
        if (found == null) {
            return List.of();
        }
        List<VectorCollection.Hit> out = new ArrayList<>();
        out.add(found);
        float[] v = models.embedQuery(relation.isEmpty() ? found.title() : relation);
        out.addAll(graph.nearest(v, k, Math.max(k, 50), Map.of("kind", "relation", "head_id", found.metadata().get("term_id"))));
        return out;
    }

    /** An exact (case-insensitive) name among the BM25 hits, else the best BM25 hit, else the nearest name. */
    private VectorCollection.Hit findTerm(VectorCollection graph, String term) {
        if (term.isEmpty()) {
            return null;
        }
        List<VectorCollection.Hit> byWords = graph.keyword(term, 10, Map.of("kind", "term"));
        for (VectorCollection.Hit h : byWords) {
            if (h.title().equalsIgnoreCase(term)) {
                return h;
            }
        }
        if (!byWords.isEmpty()) {
            return byWords.get(0);
        }
        List<VectorCollection.Hit> byMeaning = graph.nearest(models.embedQuery(term), 1, 50, Map.of("kind", "term"));
        return byMeaning.isEmpty() || byMeaning.get(0).score() < MIN_NAME_SIMILARITY ? null : byMeaning.get(0);
    }
}

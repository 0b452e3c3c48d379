package io.heterorag.retrieval.search;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import io.heterorag.model.text.CrossEncoder;
import io.heterorag.proto.v1.SearchMode;
import io.heterorag.retrieval.config.RetrievalConfig;
import io.heterorag.retrieval.model.Models;
import io.heterorag.store.RankFusion;
import io.heterorag.store.VectorCollection;

/**
 * Search of a text corpus as the method does it: dense (text encoder, HNSW) and BM25 candidates,
 * fused per document, the top of the fused list reranked by the configured cross-encoder (without
 * one, the fused order stands), the k best returned.
 */
@Singleton
public class CorpusSearch {

    private final Models models;
    private final int candidates;
    private final RankFusion.Rule rule;
    private final double keywordWeight;
    private final int rerankDepth;

    @Inject
    public CorpusSearch(Models models, RetrievalConfig config) {
        this(models, config.retrieval().corpusCandidates(), config.retrieval().fusion().rule(),
                config.retrieval().fusion().keywordWeight(), config.retrieval().rerank().depth());
    }

    /** candidates: entries per list before fusion; keywordWeight: BM25's share; rerankDepth: fused documents reranked. */
    public CorpusSearch(Models models, int candidates, String rule, double keywordWeight, int rerankDepth) {
        this.models = models;
        this.candidates = candidates;
        this.rule = RankFusion.Rule.valueOf(rule.toUpperCase(Locale.ROOT));
        this.keywordWeight = keywordWeight;
        this.rerankDepth = rerankDepth;
    }

    /** What ranks the results, for responses and evaluation reports. */
    public String method() {
        return "dense " + models.text().name() + " + BM25, " + rule.name().toLowerCase(Locale.ROOT) + " fusion (BM25 weight "
                + keywordWeight + "), " + models.reranker().map(r -> "top " + rerankDepth + " reranked by cross-encoder " + r.id())
                        .orElse("no cross-encoder configured: fused order");
    }

    public List<VectorCollection.Hit> search(VectorCollection corpus, String query, SearchMode mode, int k) {
        return switch (mode) {
            case KEYWORD -> corpus.keyword(query, k);
            case DENSE -> corpus.nearest(models.embedQuery(query), k, Math.max(k, candidates), Map.of());
            case HYBRID -> {
                int n = Math.max(candidates, k);
                List<VectorCollection.Hit> fused = RankFusion.fuse(List.of(corpus.nearest(models.embedQuery(query), n, n, Map.of()),
                        corpus.keyword(query, n)), new double[] {1 - keywordWeight, keywordWeight}, rule, Math.max(k, rerankDepth));
                yield models.reranker().map(r -> rerank(r, query, fused, k)).orElse(fused.subList(0, Math.min(k, fused.size())));
            }
            default -> throw new IllegalArgumentException("unknown search mode " + mode);
        };
    }

    /** The fused documents (the top max(k, depth)) ordered by the cross-encoder; score = its logit. */
    static List<VectorCollection.Hit> rerank(CrossEncoder reranker, String query, List<VectorCollection.Hit> top, int k) {
        float[] scores = reranker.score(query, top.stream().map(h -> h.title() + ". " + h.text()).toList());
        List<VectorCollection.Hit> out = new ArrayList<>();
        for (int i = 0; i < top.size(); i++) {
            VectorCollection.Hit h = top.get(i);
            out.add(new VectorCollection.Hit(h.id(), scores[i], h.title(), h.text(), h.metadata()));
        }
        out.sort(Comparator.comparingDouble((VectorCollection.Hit h) -> -h.score()));
        return out.subList(0, Math.min(k, out.size()));
    }
}

package io.heterorag.store;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fuses ranked lists of one query (dense and BM25) at document level: a document counts once per
 * list, by its best chunk, so a long document whose chunks crowd one list does not outvote the
 * other. Two rules: reciprocal rank fusion (k = 60; ranks only) and z-score fusion (each list's
 * scores standardised, a document missing from a list gets that list's lowest score; keeps how far
 * ahead a hit is, which RRF throws away).
 */
public final class RankFusion {

    public enum Rule { RRF, ZSCORE }

    private RankFusion() {
    }

    /** The k best documents (their best chunk) with the fused score, best first. */
    public static List<VectorCollection.Hit> fuse(List<List<VectorCollection.Hit>> lists, double[] weights, Rule rule, int k) {
        Map<String, VectorCollection.Hit> best = new LinkedHashMap<>();
        List<Map<String, Float>> perList = new ArrayList<>();
        for (List<VectorCollection.Hit> list : lists) {
            Map<String, Float> docs = new LinkedHashMap<>(); // best first: the first chunk seen is the best
            for (VectorCollection.Hit h : list) {
                String doc = document(h);
                if (docs.putIfAbsent(doc, h.score()) == null) {
                    best.putIfAbsent(doc, h);
                }
            }
            perList.add(docs);
        }
        Map<String, Double> fused = new HashMap<>();
        for (int l = 0; l < perList.size(); l++) {
            Map<String, Float> docs = perList.get(l);
            if (docs.isEmpty()) {
                continue;
            }
            double w = weights[l];
            if (rule == Rule.RRF) {
                int rank = 0;
                for (String doc : docs.keySet()) {
                    fused.merge(doc, w / (60 + ++rank), Double::sum);
                }
            } else {
                double mean = docs.values().stream().mapToDouble(Float::doubleValue).average().orElse(0);
                double sd = Math.sqrt(docs.values().stream().mapToDouble(s -> (s - mean) * (s - mean)).average().orElse(0)) + 1e-9;
                double min = docs.values().stream().mapToDouble(Float::doubleValue).min().orElse(0);
                for (String doc : best.keySet()) {
                    fused.merge(doc, w * (docs.getOrDefault(doc, (float) min) - mean) / sd, Double::sum);
                }
            }
        }
        return fused.entrySet().stream()
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                .limit(k)
                .map(e -> {
                    VectorCollection.Hit h = best.get(e.getKey());
                    return new VectorCollection.Hit(h.id(), e.getValue().floatValue(), h.title(), h.text(), h.metadata());
                })
                .toList();
    }

    /** The document a hit belongs to: its document_id for chunks, else itself. */
    public static String document(VectorCollection.Hit h) {
        return h.metadata().getOrDefault("document_id", h.id());
    }
}

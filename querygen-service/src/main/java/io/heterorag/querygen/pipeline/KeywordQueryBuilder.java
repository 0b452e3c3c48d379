package io.heterorag.querygen.pipeline;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.CorpusQuery;

/**
 * The default query generator until an MQG model is trained: a deterministic, rule-based builder,
 * NOT a language model. It keeps the question's content words and adds the terms that at least two
 * retrieved reports share (what the similar cases agree on), then writes one query per enabled
 * unstructured corpus (at most 4) and a "term,relation" graph query for the strongest term. With a
 * single report (an adaptive cut can keep one), that report's most frequent terms are used.
 */
public final class KeywordQueryBuilder {

    public static final String ID = "keyword-query-builder@1";

    static final int MAX_UNSTRUCTURED = 4;
    static final int REPORT_TERMS = 6;
    static final List<Corpus> UNSTRUCTURED = List.of(Corpus.BOOK, Corpus.RESEARCH, Corpus.WIKI, Corpus.GUIDELINE);

    // a list turned into a set: Set.of refuses the duplicates a word list easily gains
    private static final Set<String> STOP = Set.copyOf(List.of(
            "a", "an", "and", "are", "as", "at", "be", "been", "by", "can", "did", "do", "does", "for", "from", "had",
            "has", "have", "he", "her", "his", "how", "i", "in", "into", "is", "it", "its", "likely", "most", "no",
            "not", "of", "on", "or", "she", "show", "shown", "shows", "seen", "than", "that", "the", "their", "there",
            "these", "this", "those", "to", "was", "were", "what", "when", "where", "which", "who", "why", "with",
            "yo", "year", "years", "old", "y", "o", "patient", "image", "images", "demonstrates", "demonstrate",
            "reveals", "revealed", "noted", "presented", "presents", "diagnosis", "diagnoses", "findings", "finding",
            "also", "any", "all", "other", "after", "over", "within", "without", "left", "right", "both",
            "axial", "coronal", "sagittal", "view", "arrow", "arrows", "see", "study", "one", "two", "may", "well",
            "here", "would", "will", "about", "man", "woman", "male", "female", "history", "noncontrast"));

    /** The queries and their tagged form. */
    public record Queries(List<CorpusQuery> queries, String tagged) {
    }

    public Queries build(String question, List<String> reportTexts, Set<Corpus> enabled) {
        Set<Corpus> corpora = enabled.isEmpty() ? EnumSet.complementOf(EnumSet.of(Corpus.CORPUS_UNSPECIFIED, Corpus.UNRECOGNIZED)) : enabled;
        List<String> questionTerms = new ArrayList<>(new LinkedHashSet<>(terms(question)));
        List<String> shared = sharedTerms(reportTexts, new HashSet<>(questionTerms));
        List<String> all = new ArrayList<>(questionTerms);
        all.addAll(shared);
        List<CorpusQuery> queries = new ArrayList<>();
        if (!all.isEmpty()) {
            String text = String.join(" ", all);
            int written = 0;
            for (Corpus c : UNSTRUCTURED) {
                if (corpora.contains(c) && written < MAX_UNSTRUCTURED) {
                    queries.add(CorpusQuery.newBuilder().setCorpus(c).setText(text).build());
                    written++;
                }
            }
            if (corpora.contains(Corpus.GRAPH)) {
                String term = shared.isEmpty() ? questionTerms.get(questionTerms.size() - 1) : shared.get(0);
                queries.add(CorpusQuery.newBuilder().setCorpus(Corpus.GRAPH).setText(term + ",related_to").build());
            }
        }
        return new Queries(queries, tagged(queries));
    }

    /** The method's tagged form; an empty tag means "do not search that corpus". */
    static String tagged(List<CorpusQuery> queries) {
        StringBuilder sb = new StringBuilder();
        for (Corpus c : List.of(Corpus.RESEARCH, Corpus.WIKI, Corpus.BOOK, Corpus.GUIDELINE, Corpus.GRAPH)) {
            String tag = c.name().toLowerCase(Locale.ROOT);
            String text = queries.stream().filter(q -> q.getCorpus() == c).map(CorpusQuery::getText).findFirst().orElse("");
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append('<').append(tag).append('>').append(text).append("</").append(tag).append('>');
        }
        return sb.toString();
    }

    /**
     * Terms found in at least two reports (in the one report when only one was kept), most widely
     * shared first, then most frequent, ties alphabetical.
     */
    static List<String> sharedTerms(List<String> reports, Set<String> exclude) {
        Map<String, Integer> df = new HashMap<>();
        Map<String, Integer> tf = new HashMap<>();
        for (String r : reports) {
            List<String> ts = terms(r);
            for (String t : ts) {
                if (!exclude.contains(t)) {
                    tf.merge(t, 1, Integer::sum);
                }
            }
            for (String t : new HashSet<>(ts)) {
                if (!exclude.contains(t)) {
                    df.merge(t, 1, Integer::sum);
                }
            }
        }
        int minDf = Math.min(2, reports.size());
        return df.entrySet().stream()
                .filter(e -> e.getValue() >= minDf)
                .sorted(Comparator.<Map.Entry<String, Integer>>comparingInt(Map.Entry::getValue).reversed()
                        .thenComparing(Comparator.<Map.Entry<String, Integer>>comparingInt(e -> tf.get(e.getKey())).reversed())
                        .thenComparing(Map.Entry::getKey))
                .limit(REPORT_TERMS)
                .map(Map.Entry::getKey)
                .toList();
    }

    static List<String> terms(String text) {
        List<String> out = new ArrayList<>();
        for (String t : text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}-]+")) {
            String w = t.replaceAll("^-+|-+$", "");
            if (w.length() > 2 && !STOP.contains(w) && !w.chars().allMatch(Character::isDigit)) {
                out.add(w);
            }
        }
        return out;
    }
}

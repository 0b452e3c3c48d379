package io.heterorag.model.generation;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The content words queries are made of: the rule-based query builder (querygen-service) and the
 * MQG's training data (candidate queries) and evaluation (the rule builder's baseline) share them.
 * Lower-cased runs of letters, digits and '-', longer than 2 characters, not a stop word or a number.
 */
public final class QueryTerms {

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

    private QueryTerms() {
    }

    /** The text's content words in order, repeats included. */
    public static List<String> terms(String text) {
        List<String> out = new ArrayList<>();
        for (String t : text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}-]+")) {
            String w = t.replaceAll("^-+|-+$", "");
            if (w.length() > 2 && !STOP.contains(w) && !w.chars().allMatch(Character::isDigit)) {
                out.add(w);
            }
        }
        return out;
    }

    /** The question's content words, each once, in order. */
    public static List<String> questionTerms(String question) {
        return new ArrayList<>(new LinkedHashSet<>(terms(question)));
    }

    /**
     * At most {@code limit} terms found in at least two reports (in the one report when only one was
     * kept) and not in {@code exclude}: most widely shared first, then most frequent, ties alphabetical.
     */
    public static List<String> sharedTerms(List<String> reports, Set<String> exclude, int limit) {
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
                .limit(limit)
                .map(Map.Entry::getKey)
                .toList();
    }
}

package io.heterorag.generation.answer;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which evidence a generated answer relies on, by lexical overlap. A generator does not say where
 * its words come from, so a piece of the answer cites each evidence item that was in the prompt
 * (documents as "title: text", reports; clipped as the prompt clips them) and shares at least one
 * content word with it. Content words: lower-cased runs of letters and digits of at least 3
 * characters that are not common English or question words, with a plural "s" removed (so
 * "nodules" matches "nodule"). An answer that is only "yes" or "no" carries no content word; it
 * relies on the evidence about what was asked, so it is attributed through the question's content
 * words instead. Citations are in prompt order (documents best first, then reports).
 */
final class Attribution {

    /** An evidence item of the prompt. */
    record Source(String id, float score, Set<String> words) {
    }

    private static final Set<String> STOP = Set.of("the", "and", "for", "with", "this", "that", "these", "those", "are", "was",
            "were", "there", "here", "has", "have", "had", "been", "being", "not", "but", "from", "into", "onto", "than", "then",
            "they", "their", "them", "its", "also", "may", "can", "will", "would", "should", "could", "which", "what", "where",
            "when", "who", "whom", "whose", "why", "how", "does", "did", "done", "any", "all", "some", "each", "other", "more",
            "most", "such", "only", "own", "same", "very", "you", "your", "our", "she", "his", "her", "him", "one", "two",
            "yes", "seen", "see", "shown", "show", "shows", "image", "images", "picture", "answer", "question", "likely",
            "about", "above", "below", "after", "before", "between", "both", "out", "over", "under", "via", "per");

    private final List<Source> sources;

    Attribution(List<Source> sources) {
        this.sources = List.copyOf(sources);
    }

    static Source source(String id, float score, String promptText) {
        return new Source(id, score, words(promptText));
    }

    /** Ids of the sources sharing a content word with {@code words}, in prompt order. */
    List<String> cite(Set<String> words) {
        List<String> ids = new ArrayList<>();
        if (words.isEmpty()) {
            return ids;
        }
        for (Source s : sources) {
            if (s.words().stream().anyMatch(words::contains)) {
                ids.add(s.id());
            }
        }
        return ids;
    }

    /** Citations of a whole answer: its content words, or the question's for a bare yes/no. */
    List<String> citeAnswer(String answer, String question) {
        return cite(isYesNo(answer) ? words(question) : words(answer));
    }

    /** Sum of the scores of the cited sources (RankedAnswer.score: the support of the evidence naming it). */
    float support(List<String> ids) {
        float sum = 0;
        for (Source s : sources) {
            if (ids.contains(s.id())) {
                sum += s.score();
            }
        }
        return sum;
    }

    static boolean isYesNo(String answer) {
        String a = answer.strip().toLowerCase(Locale.ROOT).replaceAll("[\\p{Punct}\\s]+$", "");
        return a.equals("yes") || a.equals("no");
    }

    static Set<String> words(String text) {
        Set<String> out = new LinkedHashSet<>();
        for (String w : text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
            if (w.length() < 3 || STOP.contains(w)) {
                continue;
            }
            out.add(w.length() > 4 && w.endsWith("s") && !w.endsWith("ss") ? w.substring(0, w.length() - 1) : w);
        }
        return out;
    }
}

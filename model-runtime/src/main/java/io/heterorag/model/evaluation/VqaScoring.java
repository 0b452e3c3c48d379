package io.heterorag.model.evaluation;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The medical VQA papers' scoring: answers are normalised (lower case, trimmed, trailing
 * punctuation removed); closed questions and the open "exact" figure by equality of the normalised
 * answers; the open "recall" figure as the fraction of the gold answer's tokens that occur in the
 * prediction.
 */
public final class VqaScoring {

    private VqaScoring() {
    }

    /** Lower case, trimmed, without trailing punctuation ("Yes." → "yes"). */
    public static String normalize(String answer) {
        String s = answer.toLowerCase(Locale.ROOT).strip();
        int end = s.length();
        while (end > 0 && (isPunctuation(s.charAt(end - 1)) || Character.isWhitespace(s.charAt(end - 1)))) {
            end--;
        }
        return s.substring(0, end);
    }

    /** Exact match of the normalised answers (closed questions, and the open "exact" figure). */
    public static boolean exact(String prediction, String gold) {
        return normalize(prediction).equals(normalize(gold));
    }

    /**
     * Fraction of the gold answer's tokens (with repeats, {@link TextMetrics#tokens}) present in the
     * prediction's tokens; a gold answer without word tokens scores by exact match.
     */
    public static double recall(String prediction, String gold) {
        List<String> goldTokens = TextMetrics.tokens(gold);
        if (goldTokens.isEmpty()) {
            return exact(prediction, gold) ? 1 : 0;
        }
        Set<String> predicted = new HashSet<>(TextMetrics.tokens(prediction));
        long present = goldTokens.stream().filter(predicted::contains).count();
        return (double) present / goldTokens.size();
    }

    private static boolean isPunctuation(char c) {
        int type = Character.getType(c);
        return type == Character.OTHER_PUNCTUATION || type == Character.END_PUNCTUATION || type == Character.FINAL_QUOTE_PUNCTUATION
                || type == Character.DASH_PUNCTUATION;
    }
}

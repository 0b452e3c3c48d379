package io.heterorag.model.evaluation;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Corpus BLEU (Papineni et al. 2002) and ROUGE-L (Lin 2004) for generated reports, one reference per
 * candidate. Text is lower-cased and split into runs of letters and digits (punctuation and
 * whitespace separate tokens and are dropped), as report-generation papers score after
 * pycocoevalcap's punctuation removal.
 */
public final class TextMetrics {

    private static final Pattern SEPARATORS = Pattern.compile("[^\\p{L}\\p{N}]+");

    private TextMetrics() {
    }

    /** Lower-cased word tokens; punctuation and whitespace only separate. */
    public static List<String> tokens(String text) {
        List<String> out = new ArrayList<>();
        for (String t : SEPARATORS.split(text.toLowerCase(Locale.ROOT))) {
            if (!t.isEmpty()) {
                out.add(t);
            }
        }
        return out;
    }

    /**
     * Corpus BLEU-maxN: clipped n-gram matches and candidate n-gram counts are summed over the whole
     * corpus per n, the modified precisions are combined by a geometric mean with uniform weights, and
     * multiplied by the brevity penalty exp(1 − r/c) when the total candidate length c is at most the
     * total reference length r. No smoothing: a corpus without any matching n-gram of some order scores 0.
     */
    public static double bleu(List<String> candidates, List<String> references, int maxN) {
        check(candidates, references);
        if (maxN < 1) {
            throw new IllegalArgumentException("maxN must be at least 1");
        }
        long[] matches = new long[maxN];
        long[] totals = new long[maxN];
        long c = 0;
        long r = 0;
        for (int i = 0; i < candidates.size(); i++) {
            List<String> cand = tokens(candidates.get(i));
            List<String> ref = tokens(references.get(i));
            c += cand.size();
            r += ref.size();
            for (int n = 1; n <= maxN; n++) {
                Map<List<String>, Integer> refCounts = ngrams(ref, n);
                for (Map.Entry<List<String>, Integer> e : ngrams(cand, n).entrySet()) {
                    matches[n - 1] += Math.min(e.getValue(), refCounts.getOrDefault(e.getKey(), 0));
                }
                totals[n - 1] += Math.max(0, cand.size() - n + 1);
            }
        }
        if (c == 0) {
            return 0;
        }
        double logSum = 0;
        for (int n = 0; n < maxN; n++) {
            if (matches[n] == 0) {
                return 0;
            }
            logSum += Math.log((double) matches[n] / totals[n]);
        }
        double brevity = c > r ? 1 : Math.exp(1 - (double) r / c);
        return brevity * Math.exp(logSum / maxN);
    }

    /** ROUGE-L F-measure (β = 1) of each candidate against its reference, averaged over the pairs. */
    public static double rougeL(List<String> candidates, List<String> references) {
        check(candidates, references);
        double sum = 0;
        for (int i = 0; i < candidates.size(); i++) {
            sum += rougeL(candidates.get(i), references.get(i));
        }
        return sum / candidates.size();
    }

    /** ROUGE-L F-measure of one pair: 2PR/(P+R) with P = LCS/|candidate|, R = LCS/|reference|. */
    public static double rougeL(String candidate, String reference) {
        List<String> cand = tokens(candidate);
        List<String> ref = tokens(reference);
        int lcs = lcs(cand, ref);
        if (lcs == 0) {
            return 0;
        }
        double p = (double) lcs / cand.size();
        double rec = (double) lcs / ref.size();
        return 2 * p * rec / (p + rec);
    }

    /** Length of the longest common subsequence (dynamic programming over two rows). */
    static int lcs(List<String> a, List<String> b) {
        int[] prev = new int[b.size() + 1];
        int[] cur = new int[b.size() + 1];
        for (String x : a) {
            for (int j = 1; j <= b.size(); j++) {
                cur[j] = x.equals(b.get(j - 1)) ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.size()];
    }

    private static Map<List<String>, Integer> ngrams(List<String> tokens, int n) {
        Map<List<String>, Integer> out = new HashMap<>();
        for (int i = 0; i + n <= tokens.size(); i++) {
            out.merge(tokens.subList(i, i + n), 1, Integer::sum);
        }
        return out;
    }

    private static void check(List<String> candidates, List<String> references) {
        if (candidates.isEmpty() || candidates.size() != references.size()) {
            throw new IllegalArgumentException("need one reference per candidate, got " + candidates.size()
                    + " candidates and " + references.size() + " references");
        }
    }
}

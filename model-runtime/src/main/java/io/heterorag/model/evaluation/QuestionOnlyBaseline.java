package io.heterorag.model.evaluation;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the question alone predicts, without the image: TF-IDF of the question's unigrams and bigrams
 * and a multinomial logistic regression over the training answers, trained by full-batch gradient
 * descent. A generator that does not beat it on closed questions has not learned to look at the
 * image. Answers are compared after {@link VqaScoring#normalize}.
 */
public final class QuestionOnlyBaseline {

    private final Map<String, Integer> features;
    private final double[] idf;
    private final List<String> classes;
    private final double[][] weights; // [feature][class]
    private final double[] bias;
    private final String majority;

    private QuestionOnlyBaseline(Map<String, Integer> features, double[] idf, List<String> classes, double[][] weights,
            double[] bias, String majority) {
        this.features = features;
        this.idf = idf;
        this.classes = classes;
        this.weights = weights;
        this.bias = bias;
        this.majority = majority;
    }

    /** Trains with the defaults used by the evaluation (300 steps, learning rate 2, L2 1e-4). */
    public static QuestionOnlyBaseline train(List<String> questions, List<String> answers) {
        return train(questions, answers, 300, 2.0, 1e-4);
    }

    /**
     * Trains on question/answer pairs (usually a set's closed questions). Deterministic: weights start
     * at zero and every step uses the whole training set.
     */
    public static QuestionOnlyBaseline train(List<String> questions, List<String> answers, int steps, double learningRate,
            double l2) {
        if (questions.isEmpty() || questions.size() != answers.size()) {
            throw new IllegalArgumentException("need one answer per question, got " + questions.size() + " questions and "
                    + answers.size() + " answers");
        }
        int n = questions.size();
        Map<String, Integer> features = new LinkedHashMap<>();
        List<Map<Integer, Integer>> counts = new ArrayList<>();
        Map<Integer, Integer> df = new HashMap<>();
        for (String q : questions) {
            Map<Integer, Integer> c = new HashMap<>();
            for (String term : terms(q)) {
                c.merge(features.computeIfAbsent(term, t -> features.size()), 1, Integer::sum);
            }
            c.keySet().forEach(f -> df.merge(f, 1, Integer::sum));
            counts.add(c);
        }
        double[] idf = new double[features.size()];
        for (int f = 0; f < idf.length; f++) {
            idf[f] = Math.log((1.0 + n) / (1.0 + df.get(f))) + 1; // smoothed, as scikit-learn's TfidfVectorizer
        }
        Map<String, Integer> classIndex = new LinkedHashMap<>();
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = classIndex.computeIfAbsent(VqaScoring.normalize(answers.get(i)), a -> classIndex.size());
        }
        List<String> classes = new ArrayList<>(classIndex.keySet());
        int k = classes.size();
        List<Sparse> x = counts.stream().map(c -> Sparse.tfidf(c, idf)).toList();
        double[][] w = new double[idf.length][k];
        double[] b = new double[k];
        double[][] gw = new double[idf.length][k];
        double[] gb = new double[k];
        double[] p = new double[k];
        for (int step = 0; step < steps; step++) {
            for (double[] row : gw) {
                java.util.Arrays.fill(row, 0);
            }
            java.util.Arrays.fill(gb, 0);
            for (int i = 0; i < n; i++) {
                softmax(x.get(i), w, b, p);
                p[labels[i]] -= 1; // d(cross-entropy)/d(logits) = p − onehot
                Sparse xi = x.get(i);
                for (int j = 0; j < xi.index.length; j++) {
                    double[] g = gw[xi.index[j]];
                    for (int c = 0; c < k; c++) {
                        g[c] += xi.value[j] * p[c];
                    }
                }
                for (int c = 0; c < k; c++) {
                    gb[c] += p[c];
                }
            }
            for (int f = 0; f < w.length; f++) {
                for (int c = 0; c < k; c++) {
                    w[f][c] -= learningRate * (gw[f][c] / n + l2 * w[f][c]);
                }
            }
            for (int c = 0; c < k; c++) {
                b[c] -= learningRate * gb[c] / n;
            }
        }
        return new QuestionOnlyBaseline(features, idf, classes, w, b, majorityAnswer(answers));
    }

    /** The most likely training answer for the question (normalised). */
    public String predict(String question) {
        Map<Integer, Integer> c = new HashMap<>();
        for (String term : terms(question)) {
            Integer f = features.get(term);
            if (f != null) {
                c.merge(f, 1, Integer::sum);
            }
        }
        double[] p = new double[classes.size()];
        softmax(Sparse.tfidf(c, idf), weights, bias, p);
        int best = 0;
        for (int i = 1; i < p.length; i++) {
            best = p[i] > p[best] ? i : best;
        }
        return classes.get(best);
    }

    /** The most frequent training answer (normalised). */
    public String majority() {
        return majority;
    }

    /** The most frequent normalised answer; ties go to the one seen first. */
    public static String majorityAnswer(List<String> answers) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        answers.forEach(a -> counts.merge(VqaScoring.normalize(a), 1, Integer::sum));
        String best = null;
        for (Map.Entry<String, Integer> e : counts.entrySet()) {
            best = best == null || e.getValue() > counts.get(best) ? e.getKey() : best;
        }
        if (best == null) {
            throw new IllegalArgumentException("no answers");
        }
        return best;
    }

    /** Unigrams and bigrams of the question's word tokens. */
    static List<String> terms(String question) {
        List<String> t = TextMetrics.tokens(question);
        List<String> out = new ArrayList<>(t);
        for (int i = 0; i + 1 < t.size(); i++) {
            out.add(t.get(i) + " " + t.get(i + 1));
        }
        return out;
    }

    private static void softmax(Sparse x, double[][] w, double[] b, double[] out) {
        System.arraycopy(b, 0, out, 0, b.length);
        for (int j = 0; j < x.index.length; j++) {
            double[] row = w[x.index[j]];
            for (int c = 0; c < out.length; c++) {
                out[c] += x.value[j] * row[c];
            }
        }
        double max = Double.NEGATIVE_INFINITY;
        for (double v : out) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (int c = 0; c < out.length; c++) {
            out[c] = Math.exp(out[c] - max);
            sum += out[c];
        }
        for (int c = 0; c < out.length; c++) {
            out[c] /= sum;
        }
    }

    /** An L2-normalised TF-IDF row. */
    private record Sparse(int[] index, double[] value) {
        static Sparse tfidf(Map<Integer, Integer> counts, double[] idf) {
            int[] index = counts.keySet().stream().mapToInt(Integer::intValue).sorted().toArray();
            double[] value = new double[index.length];
            double norm = 0;
            for (int j = 0; j < index.length; j++) {
                value[j] = counts.get(index[j]) * idf[index[j]];
                norm += value[j] * value[j];
            }
            norm = Math.sqrt(norm);
            for (int j = 0; j < index.length && norm > 0; j++) {
                value[j] /= norm;
            }
            return new Sparse(index, value);
        }
    }
}

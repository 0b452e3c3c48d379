package io.heterorag.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.heterorag.model.text.Vectors;
import io.heterorag.store.LuceneCollection;
import io.heterorag.store.VectorCollection;

/**
 * {@code bench vectors --n N --dim D [--queries 100] [--candidates 100[,200…]] [--json] [--out FILE]}: the
 * embedded store's HNSW search against exact search over the same vectors, in one run: recall@10,
 * queries/s of both, build time and bytes per vector on disk. Vectors are clustered (a Gaussian
 * mixture, normalised), closer to real embeddings than uniform noise.
 */
final class VectorBench {

    static final int K = 10;
    static final int BATCH = 10_000;

    private VectorBench() {
    }

    static int run(Args args) throws IOException {
        int n = args.integer("n", 100_000);
        int dim = args.integer("dim", 384);
        int queries = args.integer("queries", 100);
        List<Integer> candidates = java.util.Arrays.stream(args.get("candidates", "100").split(","))
                .map(String::strip).map(Integer::parseInt).toList();
        Random rnd = new Random(args.integer("seed", 7));
        float[][] centres = new float[Math.max(1, n / 1000)][];
        for (int c = 0; c < centres.length; c++) {
            centres[c] = gaussian(rnd, dim, 1f);
        }
        float[][] data = new float[n][];
        for (int i = 0; i < n; i++) {
            data[i] = Vectors.normalize(add(centres[rnd.nextInt(centres.length)], gaussian(rnd, dim, 0.35f)));
        }
        float[][] qs = new float[queries][];
        for (int q = 0; q < queries; q++) {
            qs[q] = Vectors.normalize(add(centres[rnd.nextInt(centres.length)], gaussian(rnd, dim, 0.35f)));
        }

        Path dir = Files.createTempDirectory("bench-vectors");
        ObjectNode out = new ObjectMapper().createObjectNode();
        try (VectorCollection c = new LuceneCollection("bench", dir)) {
            long t0 = System.nanoTime();
            List<VectorCollection.Entry> batch = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String id = String.valueOf(i);
                batch.add(new VectorCollection.Entry(id, id, "", "", "", data[i], null, Map.of()));
                if (batch.size() == BATCH || i == n - 1) {
                    c.upsert(batch);
                    batch.clear();
                    System.err.printf("\rindexed %d/%d", i + 1, n);
                }
            }
            double buildS = (System.nanoTime() - t0) / 1e9;
            System.err.println();
            long tm = System.nanoTime();
            c.optimize();
            double mergeS = (System.nanoTime() - tm) / 1e9;

            List<Set<String>> exact = new ArrayList<>();
            long t1 = System.nanoTime();
            for (float[] q : qs) {
                exact.add(exactTopK(data, q));
            }
            double exactQps = queries / ((System.nanoTime() - t1) / 1e9);

            // one build, several operating points: more HNSW candidates, better recall, fewer queries/s
            ArrayNode points = out.putArray("operating_points");
            for (float[] q : qs) { // warm-up: the merged index was just written; read it once before timing
                c.nearest(q, K, candidates.get(0), Map.of());
            }
            for (int cand : candidates) {
                double recall = 0;
                long t2 = System.nanoTime();
                List<List<VectorCollection.Hit>> ann = new ArrayList<>();
                for (float[] q : qs) {
                    ann.add(c.nearest(q, K, cand, Map.of()));
                }
                double annQps = queries / ((System.nanoTime() - t2) / 1e9);
                for (int q = 0; q < queries; q++) {
                    Set<String> got = new HashSet<>();
                    ann.get(q).forEach(h -> got.add(h.id()));
                    got.retainAll(exact.get(q));
                    recall += got.size() / (double) K;
                }
                ObjectNode p = points.addObject();
                p.put("candidates", Math.max(K, cand));
                p.put("recall_at_10", Math.round(recall / queries * 1000) / 1000.0);
                p.put("ann_qps", Math.round(annQps * 10) / 10.0);
                p.put("speedup", Math.round(annQps / exactQps * 10) / 10.0);
            }
            out.put("n", n);
            out.put("dim", dim);
            out.put("queries", queries);
            // the first operating point, as the headline figures
            out.put("candidates", points.get(0).get("candidates").asInt());
            out.put("recall_at_10", points.get(0).get("recall_at_10").asDouble());
            out.put("ann_qps", points.get(0).get("ann_qps").asDouble());
            out.put("exact_qps", Math.round(exactQps * 10) / 10.0);
            out.put("speedup", points.get(0).get("speedup").asDouble());
            out.put("build_s", Math.round(buildS * 10) / 10.0);
            out.put("merge_s", Math.round(mergeS * 10) / 10.0);
            out.put("bytes_per_vector", size(dir) / n);
            out.put("index", "Lucene 9.12 HNSW (M 16, beam 100), dot product over unit vectors, float32, merged to one segment");
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        Path file = Path.of(args.get("out", Path.of(Main.env("HETERORAG_HOME", ".heterorag"), "bench",
                "vectors-" + n + "x" + dim + ".json").toString()));
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, out.toPrettyString());
        System.out.println(args.flag("json") ? out.toString() : out.toPrettyString());
        System.err.println("written to " + file);
        return 0;
    }

    /** Ids of the K largest dot products, by a full scan (the ground truth). */
    static Set<String> exactTopK(float[][] data, float[] q) {
        int[] best = new int[K];
        float[] scores = new float[K];
        java.util.Arrays.fill(scores, -Float.MAX_VALUE);
        for (int i = 0; i < data.length; i++) {
            float s = 0;
            float[] v = data[i];
            for (int d = 0; d < v.length; d++) {
                s += v[d] * q[d];
            }
            if (s > scores[K - 1]) {
                int j = K - 1;
                while (j > 0 && scores[j - 1] < s) {
                    scores[j] = scores[j - 1];
                    best[j] = best[j - 1];
                    j--;
                }
                scores[j] = s;
                best[j] = i;
            }
        }
        Set<String> out = new HashSet<>();
        for (int b : best) {
            out.add(String.valueOf(b));
        }
        return out;
    }

    static float[] gaussian(Random rnd, int dim, float scale) {
        float[] v = new float[dim];
        for (int d = 0; d < dim; d++) {
            v[d] = (float) rnd.nextGaussian() * scale;
        }
        return v;
    }

    static float[] add(float[] a, float[] b) {
        float[] v = new float[a.length];
        for (int d = 0; d < a.length; d++) {
            v[d] = a[d] + b[d];
        }
        return v;
    }

    static long size(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

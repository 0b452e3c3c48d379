package io.heterorag.cli;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.heterorag.model.generation.QueryTerms;
import io.heterorag.model.generation.TaggedQueries;
import io.heterorag.model.generation.TaggedQueryGrammar;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.Image;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.ReportHit;
import io.heterorag.proto.v1.RetrievalGrpc;
import io.heterorag.proto.v1.RetrieveReportsRequest;
import io.heterorag.proto.v1.SearchCorpusRequest;

/**
 * The MQG's training data, made by the platform (docs/query-generator.md): for each MedPix case with
 * an image, the question of {@code eval diagnosis} (History + "What is the most likely diagnosis?"),
 * the reports the running stack retrieves for the image as it would for another case's image ({@link #reports}), candidate queries
 * per unstructured corpus from the question's terms, the reports' shared terms and combinations, each
 * scored by the stack's real corpus search (the rank of the case's gold topic among the hits' distinct
 * titles). Every candidate's words are written rarest first (IDF over the train questions), so a
 * target's first word is its most specific one. Train: each of the (at most {@value #TARGETS}) best
 * candidates whose gold topic is among the first five becomes one example (a corpus where none does
 * is left out: skipped); a case that no candidate finds is not a training example (its target would
 * teach nothing). Dev (scored by the job, one line per case): the best target, or the question's terms
 * as the book query when nothing finds it. JSONL in the generator example format (task
 * "query_generation", answer = the tagged target) plus "gold_topic" and "ranks".
 */
final class MqgExamples {

    static final List<Corpus> UNSTRUCTURED = List.of(Corpus.RESEARCH, Corpus.WIKI, Corpus.BOOK, Corpus.GUIDELINE);
    /** Hits a candidate is scored on, and the rank within which it counts as finding the gold topic. */
    static final int K = 10;
    static final int HIT_RANK = 5;
    static final int REPORT_TERMS = 6;
    static final int CONCURRENCY = 4;
    /** Training targets per case: the best few candidates that find the gold topic, best first. */
    static final int TARGETS = 3;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a split's file holds: cases, cases a candidate finds the gold topic for, lines, tags over the lines. */
    record Written(int cases, int withHit, int examples, Map<String, Integer> tags) {
    }

    private MqgExamples() {
    }

    /**
     * Candidate queries from the question's terms {@code q} and the reports' shared terms {@code r}
     * (hyphens split, as WordPiece splits them): the question's rarest 1, 2, 3, 4, 6 and 8 terms, its
     * first 4 and 8, the reports' terms, each report term added to the rarest 2 and 4 question terms,
     * and mixes of both; each cut to {@code maxWords} words and written rarest first (so the same set
     * of words is one candidate), duplicates once, in this order.
     */
    static List<String> candidates(List<String> q, List<String> r, Map<String, Double> idf, int maxWords) {
        List<String> qs = split(q);
        List<String> rs = split(r);
        List<String> qi = rarestFirst(qs, idf);
        List<List<String>> parts = new ArrayList<>();
        for (int k : new int[] {1, 2, 3, 4, 6, 8}) {
            parts.add(head(qi, k));
        }
        parts.add(head(qs, 4));
        parts.add(head(qs, 8));
        parts.add(rs);
        parts.add(head(rs, 3));
        for (String t : rs) {
            parts.add(concat(head(qi, 2), List.of(t)));
            parts.add(concat(head(qi, 4), List.of(t)));
        }
        parts.add(concat(head(qi, 4), head(rs, 2)));
        parts.add(concat(head(qi, 2), head(rs, 2)));
        parts.add(concat(head(qi, 4), head(rs, 4)));
        LinkedHashSet<String> out = new LinkedHashSet<>();
        for (List<String> p : parts) {
            List<String> words = new ArrayList<>(new LinkedHashSet<>(p));
            words = rarestFirst(head(words, maxWords), idf);
            if (!words.isEmpty()) {
                out.add(String.join(" ", words));
            }
        }
        return new ArrayList<>(out);
    }

    /** Inverse document frequency of each word over {@code texts}' term sets (hyphens split): ln((n + 1) / (df + 1)) + 1. */
    static Map<String, Double> idf(List<String> texts) {
        Map<String, Integer> df = new java.util.HashMap<>();
        for (String t : texts) {
            for (String w : new HashSet<>(split(QueryTerms.terms(t)))) {
                df.merge(w, 1, Integer::sum);
            }
        }
        Map<String, Double> out = new java.util.HashMap<>();
        df.forEach((w, n) -> out.put(w, Math.log((texts.size() + 1.0) / (n + 1.0)) + 1));
        return out;
    }

    /** Words rarest first (a word not seen is rarest); ties keep their order. */
    static List<String> rarestFirst(List<String> words, Map<String, Double> idf) {
        double unseen = idf.values().stream().mapToDouble(Double::doubleValue).max().orElse(1) + 1;
        List<String> out = new ArrayList<>(words);
        out.sort(java.util.Comparator.comparingDouble(w -> -idf.getOrDefault(w, unseen)));
        return out;
    }

    private static List<String> split(List<String> terms) {
        List<String> out = new ArrayList<>();
        for (String t : terms) {
            for (String w : t.split("-")) {
                if (!w.isEmpty() && !out.contains(w)) {
                    out.add(w);
                }
            }
        }
        return out;
    }

    private static List<String> head(List<String> l, int n) {
        return l.subList(0, Math.min(n, l.size()));
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    /** Rank of the gold topic among the distinct titles of the first K hits of the query, or -1. */
    static int rank(RetrievalGrpc.RetrievalBlockingStub retrieval, Corpus corpus, String query, String gold) {
        var res = retrieval.searchCorpus(SearchCorpusRequest.newBuilder().setCorpus(corpus).setQuery(query).setK(K).build());
        List<String> titles = res.getHitsList().stream().map(h -> h.getTitle().strip().toLowerCase(Locale.ROOT)).distinct().toList();
        return titles.indexOf(gold.strip().toLowerCase(Locale.ROOT));
    }

    /** Corpora that hold anything: an empty corpus cannot find a gold topic, so its candidates are not scored. */
    static List<Corpus> nonEmpty(RetrievalGrpc.RetrievalBlockingStub retrieval) {
        List<Corpus> out = new ArrayList<>();
        for (Corpus c : UNSTRUCTURED) {
            if (retrieval.searchCorpus(SearchCorpusRequest.newBuilder().setCorpus(c).setQuery("diagnosis disease").setK(1).build())
                    .getHitsCount() > 0) {
                out.add(c);
            }
        }
        return out;
    }

    /** Writes one split's examples; cases without an image on disk are left out (the VLM reads the image). */
    static Written write(RetrievalGrpc.RetrievalBlockingStub retrieval, MedPix medpix,
            String split, List<Corpus> corpora, Path file) {
        // word rarity from the train questions only, for every split: dev stays held out
        Map<String, Double> idf = idf(medpix.cases("train").stream().map(c -> c.history() + " " + EvalCommand.QUESTION).toList());
        boolean train = split.equals("train");
        List<MedPix.Case> cases = new ArrayList<>();
        Map<String, Path> images = new LinkedHashMap<>();
        for (MedPix.Case c : medpix.cases(split)) {
            c.images().stream().map(medpix::imagePath).filter(Files::exists).findFirst().ifPresent(p -> {
                cases.add(c);
                images.put(c.id(), p);
            });
        }
        ExecutorService pool = Executors.newFixedThreadPool(CONCURRENCY);
        int withHit = 0;
        int examples = 0;
        Map<String, Integer> tags = new LinkedHashMap<>();
        try (BufferedWriter out = Files.newBufferedWriter(file)) {
            List<Future<List<Map<String, Object>>>> lines = new ArrayList<>();
            for (MedPix.Case c : cases) {
                lines.add(pool.submit(() -> examples(retrieval, c, images.get(c.id()), corpora, idf, train)));
            }
            for (Future<List<Map<String, Object>>> f : lines) {
                List<Map<String, Object>> ls = f.get();
                withHit += ls.stream().anyMatch(l -> Boolean.TRUE.equals(l.get("found"))) ? 1 : 0;
                for (Map<String, Object> line : ls) {
                    line.remove("found");
                    for (TaggedQueries.Query q : TaggedQueries.parse((String) line.get("answer"))) {
                        tags.merge(q.tag(), 1, Integer::sum);
                    }
                    out.write(JSON.writeValueAsString(line));
                    out.newLine();
                    examples++;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("making the MQG examples failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } finally {
            pool.shutdownNow();
        }
        return new Written(cases.size(), withHit, examples, tags);
    }

    /** Reports asked for beyond the served number, so that the image's own case's can be left out. */
    static final int REPORTS_ASKED = 12;
    static final int REPORTS_SERVED = 5;
    /** retrieval-service's default adaptive cut (heterorag.retrieval.adaptive-k.ratio): stop where a similarity drops below 0.9 × the previous. */
    static final double ADAPTIVE_RATIO = 0.9;

    /**
     * The reports a query image of another case would get: a fixed list, the case's own reports left
     * out (a train image finds its own report first, and the adaptive cut would then keep little
     * else: train prompts held 0.7 reports on average against 4.8 on dev), then the served number and
     * the served adaptive cut applied to what is left.
     */
    static List<String> reports(RetrievalGrpc.RetrievalBlockingStub retrieval, MedPix.Case c, Path image) {
        List<ReportHit> others = retrieval.retrieveReports(RetrieveReportsRequest.newBuilder().setModality(Modality.RADIOLOGY)
                        .setImage(Image.newBuilder().setData(ByteString.copyFrom(AtlasSources.read(image))).setMediaType(AskCommand.mediaType(image)))
                        .setK(REPORTS_ASKED).setFixedK(true).build())
                .getReportsList().stream().filter(h -> !c.id().equals(h.getMetadataMap().get("case_id"))).limit(REPORTS_SERVED).toList();
        return others.subList(0, adaptiveCut(others.stream().map(ReportHit::getScore).toList())).stream().map(ReportHit::getText).toList();
    }

    /** How many of a ranked list retrieval-service keeps (AdaptiveK with the default ratio, at least one). */
    static int adaptiveCut(List<Float> scores) {
        for (int i = 1; i < scores.size(); i++) {
            if (scores.get(i - 1) <= 0 || scores.get(i) <= 0 || scores.get(i) / scores.get(i - 1) < ADAPTIVE_RATIO) {
                return i;
            }
        }
        return scores.size();
    }

    /** A case's examples: train: one per target found (none when nothing finds the gold topic); dev: exactly one. */
    private static List<Map<String, Object>> examples(RetrievalGrpc.RetrievalBlockingStub retrieval, MedPix.Case c, Path image, List<Corpus> corpora, Map<String, Double> idf,
            boolean train) {
        String question = (c.history() + " " + EvalCommand.QUESTION).strip();
        List<String> reports = reports(retrieval, c, image);
        List<String> q = QueryTerms.questionTerms(question);
        List<String> r = QueryTerms.sharedTerms(reports, new HashSet<>(q), REPORT_TERMS);
        List<String> candidates = candidates(q, r, idf, TaggedQueryGrammar.DEFAULT.maxWords());
        // per corpus, the candidates that find the gold topic in the first HIT_RANK: best rank first, then more words, then order
        Map<Corpus, List<String>> found = new LinkedHashMap<>();
        Map<Corpus, List<Integer>> foundRanks = new LinkedHashMap<>();
        // every candidate's rank per corpus (-1: not in the first K), for the job and for analysis
        Map<String, Map<String, Integer>> all = new LinkedHashMap<>();
        for (Corpus corpus : corpora) {
            List<Object[]> hits = new ArrayList<>();
            for (String cand : candidates) {
                int rank = rank(retrieval, corpus, cand, c.topicTitle());
                all.computeIfAbsent(cand, k -> new LinkedHashMap<>()).put(corpus.name().toLowerCase(Locale.ROOT), rank);
                if (rank >= 0 && rank < HIT_RANK) {
                    hits.add(new Object[] {cand, rank});
                }
            }
            // among equal ranks the longer query: one word that happens to find the topic teaches the model to write one generic word
            hits.sort(java.util.Comparator.<Object[]>comparingInt(h -> (int) h[1]).thenComparingInt(h -> -((String) h[0]).split(" ").length));
            if (!hits.isEmpty()) {
                found.put(corpus, hits.stream().map(h -> (String) h[0]).toList());
                foundRanks.put(corpus, hits.stream().map(h -> (int) h[1]).toList());
            }
        }
        List<Map<String, Object>> out = new ArrayList<>();
        int targets = found.isEmpty() ? (train ? 0 : 1) : train ? found.values().stream().mapToInt(List::size).max().orElse(0) : 1;
        for (int j = 0; j < Math.min(targets, TARGETS); j++) {
            List<TaggedQueries.Query> target = new ArrayList<>();
            Map<String, Integer> ranks = new LinkedHashMap<>();
            for (Map.Entry<Corpus, List<String>> e : found.entrySet()) {
                int k = Math.min(j, e.getValue().size() - 1); // a corpus with fewer hits repeats its last
                String tag = e.getKey().name().toLowerCase(Locale.ROOT);
                target.add(new TaggedQueries.Query(tag, e.getValue().get(k)));
                ranks.put(tag, foundRanks.get(e.getKey()).get(k));
            }
            if (target.isEmpty()) {
                target.add(new TaggedQueries.Query("book", candidates.isEmpty() ? "diagnosis" : String.join(" ", head(split(q), 8))));
            }
            out.add(line(c, j, image, question, reports, target, ranks, all, !found.isEmpty()));
        }
        return out;
    }

    private static Map<String, Object> line(MedPix.Case c, int j, Path image, String question, List<String> reports,
            List<TaggedQueries.Query> target, Map<String, Integer> ranks, Map<String, Map<String, Integer>> candidateRanks, boolean found) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("id", "medpix-mqg:" + c.id() + (j == 0 ? "" : "#" + j));
        o.put("set", "medpix");
        o.put("image_path", image.toAbsolutePath().normalize().toString());
        o.put("task", "query_generation");
        o.put("question", question);
        o.put("answer", TaggedQueries.render(target));
        o.put("answer_type", "open");
        o.put("question_type", "");
        o.put("choices", List.of());
        o.put("documents", List.of());
        o.put("reports", reports);
        o.put("gold_topic", c.topicTitle());
        o.put("ranks", ranks);
        o.put("candidates", candidateRanks.size());
        o.put("candidate_ranks", candidateRanks);
        o.put("found", found);
        return o;
    }
}

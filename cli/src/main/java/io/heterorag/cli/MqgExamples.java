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
 * titles). One line per case, train and dev alike: per scored corpus the candidate that brings the
 * gold topic highest into the first {@value #HIT_RANK} (the evidence the answerer gets), the
 * question's terms where none beats them. JSONL in the generator example format (task
 * "query_generation", answer = the tagged target) plus "gold_topic", "ranks" and "candidate_ranks".
 */
final class MqgExamples {

    static final List<Corpus> UNSTRUCTURED = List.of(Corpus.RESEARCH, Corpus.WIKI, Corpus.BOOK, Corpus.GUIDELINE);
    /**
     * Hits a candidate is scored on, and the rank within which it counts as finding the gold topic:
     * the evidence the pipeline keeps of each query (generation-service's knowledge-per-query, 2), so a
     * target is a query whose gold topic reaches the answerer.
     */
    static final int K = 10;
    static final int HIT_RANK = 2;
    static final int REPORT_TERMS = 6;
    static final int CONCURRENCY = 4;

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * What a split's file holds: cases, cases a candidate finds the gold topic for, cases the question's
     * terms alone find it for, cases whose retrieved reports name it as their diagnosis (what the image
     * can add), how often one report term added to the question's terms brings the gold topic into the
     * first {@value #HIT_RANK} where they alone do not (gains) and the reverse (losses), lines, tags over the lines.
     */
    record Written(int cases, int withHit, int questionTermsHit, int reportsNameGold, int reportTermGains, int reportTermLosses,
            int examples, Map<String, Integer> tags) {
    }

    /** A case's line and what {@link Written} counts of it. */
    private record Example(Map<String, Object> line, boolean found, boolean questionTermsFound, boolean reportsNameGold,
            int reportTermGains, int reportTermLosses) {
    }

    private MqgExamples() {
    }

    /**
     * Candidate queries from the question's terms {@code q} and the reports' shared terms {@code r}
     * (hyphens split, as WordPiece splits them), every word in prompt order (the question's, then the
     * reports'), each at most {@code maxWords} words, duplicates once: first the default, the
     * question's terms; then each report term added to them; the first two report terms added; the
     * reports' terms alone. The question's terms come first because on MedPix they do better than the
     * rule builder's question + report terms ({@code eval diagnosis}: docs/query-generator.md), and
     * prompt order makes a target a monotone copy of the prompt.
     */
    static List<String> candidates(List<String> q, List<String> r, int maxWords) {
        List<String> qs = split(q);
        List<String> rs = split(r);
        List<List<String>> parts = new ArrayList<>();
        parts.add(head(qs, maxWords));
        for (String t : rs) {
            parts.add(concat(head(qs, maxWords - 1), List.of(t)));
        }
        parts.add(concat(head(qs, maxWords - 2), head(rs, 2)));
        parts.add(head(rs, maxWords));
        LinkedHashSet<String> out = new LinkedHashSet<>();
        for (List<String> p : parts) {
            String query = query(p, maxWords);
            if (!query.isEmpty()) {
                out.add(query);
            }
        }
        return new ArrayList<>(out);
    }

    /** The query text of some words: each once, at most {@code maxWords}. */
    private static String query(List<String> words, int maxWords) {
        return String.join(" ", head(new ArrayList<>(new LinkedHashSet<>(words)), maxWords));
    }

    /** Terms with hyphenated ones split into their parts (WordPiece writes "x-ray" as "x - ray"), each once, in order. */
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
        return l.subList(0, Math.max(0, Math.min(n, l.size())));
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
        int questionTermsHit = 0;
        int reportsNameGold = 0;
        int gains = 0;
        int losses = 0;
        Map<String, Integer> tags = new LinkedHashMap<>();
        try (BufferedWriter out = Files.newBufferedWriter(file)) {
            List<Future<Example>> examples = new ArrayList<>();
            for (MedPix.Case c : cases) {
                examples.add(pool.submit(() -> example(retrieval, c, images.get(c.id()), corpora)));
            }
            for (Future<Example> f : examples) {
                Example e = f.get();
                withHit += e.found() ? 1 : 0;
                questionTermsHit += e.questionTermsFound() ? 1 : 0;
                reportsNameGold += e.reportsNameGold() ? 1 : 0;
                gains += e.reportTermGains();
                losses += e.reportTermLosses();
                for (TaggedQueries.Query q : TaggedQueries.parse((String) e.line().get("answer"))) {
                    tags.merge(q.tag(), 1, Integer::sum);
                }
                out.write(JSON.writeValueAsString(e.line()));
                out.newLine();
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
        return new Written(cases.size(), withHit, questionTermsHit, reportsNameGold, gains, losses, cases.size(), tags);
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
    static List<ReportHit> reports(RetrievalGrpc.RetrievalBlockingStub retrieval, MedPix.Case c, Path image) {
        List<ReportHit> others = retrieval.retrieveReports(RetrieveReportsRequest.newBuilder().setModality(Modality.RADIOLOGY)
                        .setImage(Image.newBuilder().setData(ByteString.copyFrom(AtlasSources.read(image))).setMediaType(AskCommand.mediaType(image)))
                        .setK(REPORTS_ASKED).setFixedK(true).build())
                .getReportsList().stream().filter(h -> !c.id().equals(h.getMetadataMap().get("case_id"))).limit(REPORTS_SERVED).toList();
        return others.subList(0, adaptiveCut(others.stream().map(ReportHit::getScore).toList()));
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

    /**
     * A case's example: per scored corpus the candidate that puts the gold topic highest within the
     * first {@value #HIT_RANK}; the default (the question's terms) wherever no candidate beats it, so
     * a case no candidate finds still teaches the query that does best on average.
     */
    private static Example example(RetrievalGrpc.RetrievalBlockingStub retrieval, MedPix.Case c, Path image, List<Corpus> corpora) {
        String question = (c.history() + " " + EvalCommand.QUESTION).strip();
        List<ReportHit> hits = reports(retrieval, c, image);
        List<String> reports = hits.stream().map(ReportHit::getText).toList();
        List<String> q = QueryTerms.questionTerms(question);
        List<String> r = QueryTerms.sharedTerms(reports, new HashSet<>(q), REPORT_TERMS);
        int maxWords = TaggedQueryGrammar.DEFAULT.maxWords();
        List<String> candidates = candidates(q, r, maxWords);
        List<TaggedQueries.Query> target = new ArrayList<>();
        Map<String, Integer> ranks = new LinkedHashMap<>();
        // every candidate's rank per corpus (-1: not in the first K), for the job and for analysis
        Map<String, Map<String, Integer>> all = new LinkedHashMap<>();
        boolean found = false;
        boolean questionTermsFound = false;
        int gains = 0;
        int losses = 0;
        for (Corpus corpus : candidates.isEmpty() ? List.<Corpus>of() : corpora) {
            String tag = corpus.name().toLowerCase(Locale.ROOT);
            String best = null;
            int bestRank = -1;
            for (String cand : candidates) {
                int rank = rank(retrieval, corpus, cand, c.topicTitle());
                all.computeIfAbsent(cand, k -> new LinkedHashMap<>()).put(tag, rank);
                if (best == null || finds(rank) && (!finds(bestRank) || rank < bestRank)) {
                    best = cand;
                    bestRank = rank;
                }
            }
            // the first candidate is the question's terms unless it has none (then nothing is counted against them)
            boolean byQuestion = !q.isEmpty() && finds(all.get(candidates.get(0)).get(tag));
            questionTermsFound |= byQuestion;
            // the question's terms with one report term added, as candidates() writes them
            for (String t : q.isEmpty() ? List.<String>of() : split(r)) {
                String cand = query(concat(head(split(q), maxWords - 1), List.of(t)), maxWords);
                if (cand.equals(candidates.get(0))) {
                    continue;
                }
                boolean byBoth = finds(all.get(cand).get(tag));
                gains += byBoth && !byQuestion ? 1 : 0;
                losses += byQuestion && !byBoth ? 1 : 0;
            }
            target.add(new TaggedQueries.Query(tag, best));
            ranks.put(tag, bestRank);
            found |= finds(bestRank);
        }
        if (target.isEmpty()) {
            target.add(new TaggedQueries.Query("book", candidates.isEmpty() ? "diagnosis" : candidates.get(0)));
        }
        boolean reportsNameGold = hits.stream().anyMatch(h -> h.getMetadataOrDefault("diagnosis", "").strip().equalsIgnoreCase(c.topicTitle().strip()));
        return new Example(line(c, image, question, reports, target, ranks, all), found, questionTermsFound, reportsNameGold, gains, losses);
    }

    private static boolean finds(int rank) {
        return rank >= 0 && rank < HIT_RANK;
    }

    private static Map<String, Object> line(MedPix.Case c, Path image, String question, List<String> reports,
            List<TaggedQueries.Query> target, Map<String, Integer> ranks, Map<String, Map<String, Integer>> candidateRanks) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("id", "medpix-mqg:" + c.id());
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
        return o;
    }
}

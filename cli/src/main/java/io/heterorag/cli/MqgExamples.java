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
import io.heterorag.proto.v1.AnswerOptions;
import io.heterorag.proto.v1.AnswerRequest;
import io.heterorag.proto.v1.ClinicalRagGrpc;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.Image;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.ReportHit;
import io.heterorag.proto.v1.RetrievalGrpc;
import io.heterorag.proto.v1.SearchCorpusRequest;
import io.heterorag.proto.v1.Task;

/**
 * The MQG's training data, made by the platform (docs/query-generator.md): for each MedPix case with
 * an image, the question of {@code eval diagnosis} (History + "What is the most likely diagnosis?"),
 * the reports the running stack retrieves for the image (its own case's left out), candidate queries
 * per unstructured corpus from the question's terms, the reports' shared terms and combinations, each
 * scored by the stack's real corpus search (the rank of the case's gold topic among the hits' distinct
 * titles); the best candidate of each corpus whose gold topic is among the first five becomes that
 * corpus's tag of the target, a corpus where none does is left out (skipped). A case where no corpus
 * finds it gets the question's terms as its book query. One JSONL line per case in the generator
 * example format (task "query_generation", answer = the tagged target) plus "gold_topic" and "ranks".
 */
final class MqgExamples {

    static final List<Corpus> UNSTRUCTURED = List.of(Corpus.RESEARCH, Corpus.WIKI, Corpus.BOOK, Corpus.GUIDELINE);
    /** Hits a candidate is scored on, and the rank within which it counts as finding the gold topic. */
    static final int K = 10;
    static final int HIT_RANK = 5;
    static final int REPORT_TERMS = 6;
    static final int CONCURRENCY = 4;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a split's file holds. */
    record Written(int examples, int withHit, Map<String, Integer> tags) {
    }

    private MqgExamples() {
    }

    /** Candidate queries, each at most {@code maxWords} words (hyphens split as WordPiece splits them), duplicates once. */
    static List<String> candidates(List<String> q, List<String> r, int maxWords) {
        List<List<String>> parts = List.of(q, head(q, 4), concat(q, head(r, 2)), concat(q, head(r, 4)), concat(q, r), r, head(r, 3),
                concat(head(q, 4), head(r, 2)), concat(head(q, 2), head(r, 2)));
        LinkedHashSet<String> out = new LinkedHashSet<>();
        for (List<String> p : parts) {
            List<String> words = new ArrayList<>();
            for (String t : p) {
                for (String w : t.split("-")) {
                    if (!w.isEmpty() && words.size() < maxWords) {
                        words.add(w);
                    }
                }
            }
            if (!words.isEmpty()) {
                out.add(String.join(" ", words));
            }
        }
        return new ArrayList<>(out);
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
    static Written write(ClinicalRagGrpc.ClinicalRagBlockingStub generation, RetrievalGrpc.RetrievalBlockingStub retrieval, MedPix medpix,
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
        Map<String, Integer> tags = new LinkedHashMap<>();
        try (BufferedWriter out = Files.newBufferedWriter(file)) {
            List<Future<Map<String, Object>>> lines = new ArrayList<>();
            for (MedPix.Case c : cases) {
                lines.add(pool.submit(() -> example(generation, retrieval, c, images.get(c.id()), corpora)));
            }
            for (Future<Map<String, Object>> f : lines) {
                Map<String, Object> line = f.get();
                withHit += Boolean.TRUE.equals(line.remove("found")) ? 1 : 0;
                for (TaggedQueries.Query q : TaggedQueries.parse((String) line.get("answer"))) {
                    tags.merge(q.tag(), 1, Integer::sum);
                }
                out.write(JSON.writeValueAsString(line));
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
        return new Written(cases.size(), withHit, tags);
    }

    private static Map<String, Object> example(ClinicalRagGrpc.ClinicalRagBlockingStub generation, RetrievalGrpc.RetrievalBlockingStub retrieval,
            MedPix.Case c, Path image, List<Corpus> corpora) {
        String question = (c.history() + " " + EvalCommand.QUESTION).strip();
        AnswerRequest req = AnswerRequest.newBuilder().setRequestId("mqg-examples-" + c.id()).setTask(Task.OPEN_VQA)
                .setModality(Modality.RADIOLOGY).setQuestion(question)
                .setImage(Image.newBuilder().setData(ByteString.copyFrom(AtlasSources.read(image))).setMediaType(AskCommand.mediaType(image)))
                .setOptions(AnswerOptions.newBuilder().setEvidenceOnly(true).setSkipKnowledge(true)).build();
        List<String> reports = generation.answer(req).getReportsList().stream()
                .filter(h -> !c.id().equals(h.getMetadataMap().get("case_id"))).map(ReportHit::getText).toList();
        List<String> q = QueryTerms.questionTerms(question);
        List<String> r = QueryTerms.sharedTerms(reports, new HashSet<>(q), REPORT_TERMS);
        List<String> candidates = candidates(q, r, TaggedQueryGrammar.DEFAULT.maxWords());
        List<TaggedQueries.Query> target = new ArrayList<>();
        Map<String, Integer> ranks = new LinkedHashMap<>();
        for (Corpus corpus : corpora) {
            String best = null;
            int bestRank = Integer.MAX_VALUE;
            for (String cand : candidates) {
                int rank = rank(retrieval, corpus, cand, c.topicTitle());
                if (rank >= 0 && rank < HIT_RANK && rank < bestRank) {
                    best = cand;
                    bestRank = rank;
                }
            }
            if (best != null) {
                target.add(new TaggedQueries.Query(corpus.name().toLowerCase(Locale.ROOT), best));
                ranks.put(corpus.name().toLowerCase(Locale.ROOT), bestRank);
            }
        }
        boolean found = !target.isEmpty();
        if (!found) {
            target.add(new TaggedQueries.Query("book", candidates.isEmpty() ? "diagnosis" : candidates.get(0)));
        }
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
        o.put("candidates", candidates.size());
        o.put("found", found);
        return o;
    }
}

package io.heterorag.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.heterorag.proto.v1.AnswerOptions;
import io.heterorag.proto.v1.AnswerRequest;
import io.heterorag.proto.v1.AnswerResponse;
import io.heterorag.model.evaluation.RetrievalMetrics;
import io.heterorag.proto.v1.ClinicalRagGrpc;
import io.heterorag.proto.v1.EmbedRequest;
import io.heterorag.proto.v1.EmbedResponse;
import io.heterorag.proto.v1.RetrievalGrpc;
import io.heterorag.proto.v1.SearchCorpusRequest;
import io.heterorag.proto.v1.SearchMode;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.Vector;
import io.heterorag.proto.v1.Image;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.RankedAnswer;
import io.heterorag.proto.v1.StageLatency;
import io.heterorag.proto.v1.Task;

/**
 * {@code eval diagnosis --data DIR --split NAME [--json] [--no-image]}: for each case, asks with one
 * of its images and its History "What is the most likely diagnosis?" and scores whether the case's
 * own topic title is the top candidate (top1) or among the first five (top5).
 */
final class EvalCommand {

    static final String QUESTION = "What is the most likely diagnosis?";

    private EvalCommand() {
    }

    static int run(ManagedChannel channel, Args args) {
        String what = args.positional.size() == 1 ? args.positional.get(0) : "";
        return switch (what) {
            case "diagnosis" -> diagnosis(channel, args);
            case "reports" -> reports(channel, args);
            case "knowledge" -> knowledge(channel, args);
            case "vqa" -> GenerationEval.vqa(channel, args);
            case "report-generation" -> GenerationEval.reportGeneration(channel, args);
            default -> throw new Args.UsageException(
                    "usage: eval diagnosis|reports|knowledge|vqa|report-generation --data DIR --split NAME [--json]");
        };
    }

    /**
     * {@code eval reports}: image→report recall@1/5/10 with the serving ModCLIP of the modality: each
     * image of the split against all reports of the split, its own report being the hit.
     */
    static int reports(ManagedChannel channel, Args args) {
        MedPix medpix = new MedPix(Path.of(args.required("data")));
        String split = args.required("split");
        Modality modality = Main.protoEnum(Modality.class, args.get("modality", "radiology"), "radiology, ophthalmology, pathology");
        RetrievalGrpc.RetrievalBlockingStub retrieval = RetrievalGrpc.newBlockingStub(channel);
        List<float[]> images = new ArrayList<>();
        List<float[]> texts = new ArrayList<>();
        String encoder = "";
        List<MedPix.ImageReport> pairs = medpix.reports(split).stream().filter(r -> Files.exists(r.path())).toList();
        for (int i = 0; i < pairs.size(); i += 32) {
            EmbedRequest.Builder req = EmbedRequest.newBuilder().setModality(modality);
            for (MedPix.ImageReport r : pairs.subList(i, Math.min(pairs.size(), i + 32))) {
                req.addImages(Image.newBuilder().setData(ByteString.copyFrom(AtlasSources.read(r.path()))));
                req.addTexts(r.report());
            }
            EmbedResponse res = retrieval.embed(req.build());
            res.getImagesList().forEach(v -> images.add(floats(v)));
            res.getTextsList().forEach(v -> texts.add(floats(v)));
            encoder = res.getImageEncoder();
        }
        ObjectNode out = new ObjectMapper().createObjectNode();
        out.put("task", "reports");
        out.put("split", split);
        out.put("image_encoder", encoder);
        RetrievalMetrics.recall(images.toArray(float[][]::new), texts.toArray(float[][]::new), 1, 5, 10).forEach((k, v) -> {
            if (k.equals("n")) {
                out.put(k, v.intValue());
            } else {
                out.put(k, v);
            }
        });
        if (args.flag("json")) {
            System.out.println(out);
        } else {
            System.out.printf("reports on %s with %s: n=%d recall@1=%.3f recall@5=%.3f recall@10=%.3f (chance@5 %.3f)%n", split,
                    encoder, out.get("n").asInt(), out.get("recall_at_1").asDouble(), out.get("recall_at_5").asDouble(),
                    out.get("recall_at_10").asDouble(), out.get("chance_at_5").asDouble());
        }
        return 0;
    }

    /**
     * {@code eval knowledge}: each case's History + Findings as a query of the book corpus; the hit is
     * the case's own topic among the first distinct topics. The served (fused) search is reported with
     * BM25 alone and dense alone beside it, from the same run.
     */
    static int knowledge(ManagedChannel channel, Args args) {
        MedPix medpix = new MedPix(Path.of(args.required("data")));
        String split = args.required("split");
        RetrievalGrpc.RetrievalBlockingStub retrieval = RetrievalGrpc.newBlockingStub(channel);
        Map<SearchMode, int[]> hits = new LinkedHashMap<>(); // recall@1, recall@5 counts
        int n = 0;
        String ranking = "";
        for (MedPix.Case c : medpix.cases(split)) {
            String query = (c.history() + " " + c.findings()).strip();
            if (query.isEmpty()) {
                continue;
            }
            n++;
            for (SearchMode mode : List.of(SearchMode.HYBRID, SearchMode.KEYWORD, SearchMode.DENSE)) {
                var res = retrieval.searchCorpus(SearchCorpusRequest.newBuilder().setCorpus(Corpus.BOOK)
                        .setQuery(query).setK(50).setMode(mode).build());
                ranking = mode == SearchMode.HYBRID ? res.getRanking() : ranking;
                List<String> topics = res.getHitsList().stream()
                        .map(h -> h.getTitle().strip().toLowerCase(Locale.ROOT)).distinct().toList();
                int rank = topics.indexOf(c.topicTitle().strip().toLowerCase(Locale.ROOT));
                int[] counts = hits.computeIfAbsent(mode, m -> new int[2]);
                counts[0] += rank == 0 ? 1 : 0;
                counts[1] += rank >= 0 && rank < 5 ? 1 : 0;
            }
        }
        ObjectNode out = new ObjectMapper().createObjectNode();
        out.put("task", "knowledge");
        out.put("split", split);
        out.put("n", n);
        int total = Math.max(n, 1);
        int[] served = hits.getOrDefault(SearchMode.HYBRID, new int[2]);
        out.put("recall_at_1", (double) served[0] / total);
        out.put("recall_at_5", (double) served[1] / total);
        out.put("method", ranking);
        for (SearchMode mode : List.of(SearchMode.KEYWORD, SearchMode.DENSE)) {
            int[] h = hits.getOrDefault(mode, new int[2]);
            ObjectNode m = out.putObject(mode == SearchMode.KEYWORD ? "bm25" : "dense");
            m.put("recall_at_1", (double) h[0] / total);
            m.put("recall_at_5", (double) h[1] / total);
        }
        System.out.println(args.flag("json") ? out.toString() : out.toPrettyString());
        return 0;
    }

    private static float[] floats(Vector v) {
        float[] f = new float[v.getValuesCount()];
        for (int i = 0; i < f.length; i++) {
            f[i] = v.getValues(i);
        }
        return f;
    }

    static int diagnosis(ManagedChannel channel, Args args) {
        MedPix medpix = new MedPix(Path.of(args.required("data")));
        String split = args.required("split");
        boolean noImage = args.flag("no-image");
        int limit = args.integer("limit", Integer.MAX_VALUE);
        ClinicalRagGrpc.ClinicalRagBlockingStub stub = ClinicalRagGrpc.newBlockingStub(channel);

        int n = 0, top1 = 0, top5 = 0, errors = 0;
        Map<String, List<Double>> latencies = new LinkedHashMap<>();
        for (MedPix.Case c : medpix.cases(split)) {
            if (n >= limit) {
                break;
            }
            Path image = c.images().stream().map(medpix::imagePath).filter(Files::exists).findFirst().orElse(null);
            if (image == null && !noImage) {
                continue;
            }
            AnswerRequest.Builder req = AnswerRequest.newBuilder().setRequestId("eval-" + split + "-" + c.id())
                    .setModality(Modality.RADIOLOGY).setTask(Task.OPEN_VQA)
                    .setQuestion((c.history() + " " + QUESTION).strip())
                    .setOptions(AnswerOptions.newBuilder().setSkipReports(noImage));
            if (!noImage) {
                req.setImage(Image.newBuilder().setMediaType("image/jpeg").setData(ByteString.copyFrom(AtlasSources.read(image))));
            }
            long t0 = System.nanoTime();
            AnswerResponse res;
            try {
                res = stub.answer(req.build());
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() == Status.Code.UNAVAILABLE) {
                    throw e;
                }
                // a refused case (e.g. a history longer than a small generator's context) counts as missed; its id, never its text
                System.err.println("case " + c.id() + ": " + e.getStatus().getCode() + ": " + e.getStatus().getDescription());
                errors++;
                n++;
                continue;
            }
            latencies.computeIfAbsent("client_total", k -> new ArrayList<>()).add((System.nanoTime() - t0) / 1e6);
            for (StageLatency l : res.getLatenciesList()) {
                latencies.computeIfAbsent(l.getStage(), k -> new ArrayList<>()).add(l.getMillis());
            }
            int rank = rank(res.getCandidatesList(), c.topicTitle());
            n++;
            top1 += rank == 0 ? 1 : 0;
            top5 += rank >= 0 && rank < 5 ? 1 : 0;
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode out = json.createObjectNode();
        out.put("task", "diagnosis");
        out.put("split", split);
        out.put("no_image", noImage);
        out.put("n", n);
        out.put("top1", n == 0 ? 0 : (double) top1 / n);
        out.put("top5", n == 0 ? 0 : (double) top5 / n);
        out.put("errors", errors);
        ObjectNode lat = out.putObject("latency_ms");
        latencies.forEach((stage, values) -> {
            ObjectNode s = lat.putObject(stage);
            s.put("p50", percentile(values, 50));
            s.put("p95", percentile(values, 95));
            s.put("max", percentile(values, 100));
        });
        if (args.flag("json")) {
            System.out.println(out);
        } else {
            System.out.printf("diagnosis on %s (%s): n=%d top1=%.3f top5=%.3f errors=%d%n", split, noImage ? "no image" : "with image",
                    n, out.get("top1").asDouble(), out.get("top5").asDouble(), errors);
            lat.fields().forEachRemaining(e -> System.out.printf("  %-12s p50 %.1f ms  p95 %.1f ms%n", e.getKey(),
                    e.getValue().get("p50").asDouble(), e.getValue().get("p95").asDouble()));
        }
        return 0;
    }

    /** Position of the gold title among the candidates (case-insensitive), or -1. */
    static int rank(List<RankedAnswer> candidates, String gold) {
        String g = gold.strip().toLowerCase(Locale.ROOT);
        for (int i = 0; i < candidates.size(); i++) {
            if (candidates.get(i).getText().strip().toLowerCase(Locale.ROOT).equals(g)) {
                return i;
            }
        }
        return -1;
    }

    /** Nearest-rank percentile. */
    static double percentile(List<Double> values, int p) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int idx = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return Math.round(sorted.get(Math.max(0, Math.min(sorted.size() - 1, idx))) * 10) / 10.0;
    }
}

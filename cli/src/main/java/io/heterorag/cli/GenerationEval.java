package io.heterorag.cli;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import javax.imageio.ImageIO;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.heterorag.model.evaluation.QuestionOnlyBaseline;
import io.heterorag.model.evaluation.TextMetrics;
import io.heterorag.model.evaluation.VqaScoring;
import io.heterorag.model.image.ImageDecoder;
import io.heterorag.proto.v1.AnswerOptions;
import io.heterorag.proto.v1.AnswerRequest;
import io.heterorag.proto.v1.AnswerResponse;
import io.heterorag.proto.v1.ClinicalRagGrpc;
import io.heterorag.proto.v1.Image;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.ReportHit;
import io.heterorag.proto.v1.Task;

/**
 * The generator's evaluations against a running stack: {@code eval vqa} (closed accuracy, open exact
 * match and token recall, beside the majority answer and a question-only model) and
 * {@code eval report-generation} (BLEU-1/4 and ROUGE-L of the written report beside returning the
 * top retrieved report). Figures are printed and written under $HETERORAG_HOME/eval/.
 */
final class GenerationEval {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The seed of the --limit sample, so runs with the same limit ask the same questions. */
    static final long SAMPLE_SEED = 42;

    private GenerationEval() {
    }

    /**
     * {@code eval vqa --data DIR --split NAME [--limit N] [--no-retrieval] [--blank-image] [--json]}.
     * Closed questions whose gold answer is yes or no are asked as CLOSED_VQA constrained to yes/no;
     * other closed questions as OPEN_VQA (a CLOSED_VQA request without closed_answers means yes/no),
     * scored by exact match. --no-retrieval sets options.skip_reports and options.skip_knowledge: the
     * answer comes from the image and the question alone.
     */
    static int vqa(ManagedChannel channel, Args args) {
        VqaSet set = new VqaSet(Path.of(args.required("data")));
        String split = args.required("split");
        boolean noRetrieval = args.flag("no-retrieval");
        boolean blank = args.flag("blank-image");
        List<VqaSet.Question> questions = sample(set.questions(split), args.integer("limit", Integer.MAX_VALUE));
        if (questions.isEmpty()) {
            throw new IllegalArgumentException("no questions in " + set.name + " " + split);
        }
        ClinicalRagGrpc.ClinicalRagBlockingStub stub = ClinicalRagGrpc.newBlockingStub(channel);
        List<Double> millis = new ArrayList<>();
        Map<String, double[]> byType = new TreeMap<>(); // n_closed, closed correct, n_open, open exact, open recall sum
        List<VqaSet.Question> closed = new ArrayList<>();
        String generator = "";
        int errors = 0;
        Map<Path, byte[]> blanks = new HashMap<>();
        for (VqaSet.Question q : questions) {
            String prediction;
            try {
                long t0 = System.nanoTime();
                AnswerResponse res = stub.answer(request(set, q, noRetrieval, blank, blanks));
                millis.add((System.nanoTime() - t0) / 1e6);
                prediction = res.getAnswer();
                generator = res.getModels().getAnswerer();
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() == Status.Code.UNAVAILABLE) {
                    throw e;
                }
                // a refused question counts as answered wrongly; its id (never its text) is reported
                System.err.println("question " + q.id() + ": " + e.getStatus().getCode() + ": " + e.getStatus().getDescription());
                errors++;
                prediction = "";
            }
            double[] t = byType.computeIfAbsent(q.questionType().isEmpty() ? "-" : q.questionType(), k -> new double[5]);
            if (q.closed()) {
                closed.add(q);
                t[0]++;
                t[1] += VqaScoring.exact(prediction, q.answer()) ? 1 : 0;
            } else {
                t[2]++;
                t[3] += VqaScoring.exact(prediction, q.answer()) ? 1 : 0;
                t[4] += VqaScoring.recall(prediction, q.answer());
            }
        }
        double[] all = new double[5];
        byType.values().forEach(t -> {
            for (int i = 0; i < 5; i++) {
                all[i] += t[i];
            }
        });
        ObjectNode out = JSON.createObjectNode();
        out.put("task", "vqa");
        out.put("set", set.name);
        out.put("split", split);
        out.put("no_retrieval", noRetrieval);
        out.put("blank_image", blank);
        out.put("n", questions.size());
        out.put("n_closed", (int) all[0]);
        out.put("n_open", (int) all[2]);
        out.put("closed_accuracy", ratio(all[1], all[0]));
        out.put("open_exact", ratio(all[3], all[2]));
        out.put("open_recall", ratio(all[4], all[2]));
        out.put("errors", errors);
        out.put("generator", generator);
        out.put("p50_ms", millis.isEmpty() ? 0 : EvalCommand.percentile(millis, 50));
        out.put("p95_ms", millis.isEmpty() ? 0 : EvalCommand.percentile(millis, 95));
        baselines(set, split, closed, out);
        ObjectNode types = out.putObject("by_question_type");
        byType.forEach((type, t) -> {
            ObjectNode o = types.putObject(type);
            o.put("n_closed", (int) t[0]);
            o.put("closed_accuracy", ratio(t[1], t[0]));
            o.put("n_open", (int) t[2]);
            o.put("open_exact", ratio(t[3], t[2]));
            o.put("open_recall", ratio(t[4], t[2]));
        });
        String name = "vqa-" + set.name + "-" + split + (noRetrieval ? "-no-retrieval" : "") + (blank ? "-blank-image" : "");
        Path file = Main.writeFigures("eval", name, out);
        if (args.flag("json")) {
            System.out.println(out);
        } else {
            System.out.printf("vqa %s %s with %s: closed accuracy %.3f (n=%d; majority %.3f, question only %.3f), open exact %.3f,"
                    + " open recall %.3f (n=%d), p50 %.0f ms%n", set.name, split, generator, out.get("closed_accuracy").asDouble(),
                    (int) all[0], out.get("majority_closed_accuracy").asDouble(), out.get("question_only_closed_accuracy").asDouble(),
                    out.get("open_exact").asDouble(), out.get("open_recall").asDouble(), (int) all[2], out.get("p50_ms").asDouble());
        }
        System.err.println("written to " + file);
        return 0;
    }

    /** Majority answer and question-only model, trained on what a model evaluated on this split may see. */
    static void baselines(VqaSet set, String split, List<VqaSet.Question> closed, ObjectNode out) {
        List<VqaSet.Question> train = set.trainingFor(split).stream().filter(VqaSet.Question::closed).toList();
        out.put("baseline_train_closed", train.size());
        if (train.isEmpty() || closed.isEmpty()) {
            out.put("majority_closed_accuracy", 0.0);
            out.put("question_only_closed_accuracy", 0.0);
            return;
        }
        QuestionOnlyBaseline baseline = QuestionOnlyBaseline.train(train.stream().map(VqaSet.Question::question).toList(),
                train.stream().map(VqaSet.Question::answer).toList());
        int majority = 0;
        int questionOnly = 0;
        for (VqaSet.Question q : closed) {
            majority += VqaScoring.exact(baseline.majority(), q.answer()) ? 1 : 0;
            questionOnly += VqaScoring.exact(baseline.predict(q.question()), q.answer()) ? 1 : 0;
        }
        out.put("majority_answer", baseline.majority());
        out.put("majority_closed_accuracy", ratio(majority, closed.size()));
        out.put("question_only_closed_accuracy", ratio(questionOnly, closed.size()));
    }

    static AnswerRequest request(VqaSet set, VqaSet.Question q, boolean noRetrieval, boolean blank, Map<Path, byte[]> blanks) {
        Path path = set.imagePath(q);
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException("image of question " + q.id() + " not found: " + path);
        }
        byte[] image = blank ? blanks.computeIfAbsent(path, p -> greyLike(AtlasSources.read(p))) : AtlasSources.read(path);
        String gold = VqaScoring.normalize(q.answer());
        boolean yesNo = q.closed() && (gold.equals("yes") || gold.equals("no"));
        AnswerOptions.Builder options = AnswerOptions.newBuilder().setSkipReports(noRetrieval).setSkipKnowledge(noRetrieval);
        if (yesNo) {
            options.addClosedAnswers("yes").addClosedAnswers("no");
        }
        return AnswerRequest.newBuilder().setRequestId("eval-" + q.id()).setTask(yesNo ? Task.CLOSED_VQA : Task.OPEN_VQA)
                .setModality(q.modality().equals("pathology") ? Modality.PATHOLOGY : Modality.RADIOLOGY)
                .setImage(Image.newBuilder().setData(ByteString.copyFrom(image)).setMediaType(blank ? "image/png" : AskCommand.mediaType(path)))
                .setQuestion(q.question()).setOptions(options).build();
    }

    /** A uniform mid-grey PNG of the image's size: the answer may then depend on the question only. */
    static byte[] greyLike(byte[] image) {
        BufferedImage src = ImageDecoder.decode(image, "");
        BufferedImage grey = new BufferedImage(src.getWidth(), src.getHeight(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = grey.createGraphics();
        g.setColor(new Color(128, 128, 128));
        g.fillRect(0, 0, src.getWidth(), src.getHeight());
        g.dispose();
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        try {
            ImageIO.write(grey, "png", png);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return png.toByteArray();
    }

    /**
     * {@code eval report-generation --data DIR --split NAME [--limit N] [--json]}: each image of the
     * MedPix split against its case's Findings. The baseline returns the top retrieved report of the
     * same response, skipping reports of the image's own case (the repository holds train; a
     * same-case report there would be the answer itself).
     */
    static int reportGeneration(ManagedChannel channel, Args args) {
        MedPix medpix = new MedPix(Path.of(args.required("data")));
        String split = args.required("split");
        Map<String, String> findings = new HashMap<>();
        medpix.cases(split).forEach(c -> findings.put(c.id(), c.findings()));
        List<MedPix.ImageReport> images = sample(medpix.reports(split).stream()
                .filter(r -> Files.exists(r.path()) && !findings.getOrDefault(r.caseId(), "").isBlank()).toList(),
                args.integer("limit", Integer.MAX_VALUE));
        if (images.isEmpty()) {
            throw new IllegalArgumentException("no images with findings in MedPix " + split);
        }
        ClinicalRagGrpc.ClinicalRagBlockingStub stub = ClinicalRagGrpc.newBlockingStub(channel);
        List<String> gold = new ArrayList<>();
        List<String> generated = new ArrayList<>();
        List<String> retrieved = new ArrayList<>();
        List<Double> millis = new ArrayList<>();
        String generator = "";
        int noReport = 0;
        for (MedPix.ImageReport r : images) {
            long t0 = System.nanoTime();
            AnswerResponse res = stub.answer(AnswerRequest.newBuilder().setRequestId("eval-report-" + r.image())
                    .setTask(Task.REPORT_GENERATION).setModality(Modality.RADIOLOGY)
                    .setImage(Image.newBuilder().setData(ByteString.copyFrom(AtlasSources.read(r.path()))).setMediaType("image/jpeg"))
                    .build());
            millis.add((System.nanoTime() - t0) / 1e6);
            generator = res.getModels().getAnswerer();
            gold.add(findings.get(r.caseId()));
            generated.add(res.getAnswer());
            String top = topOtherCase(res.getReportsList(), r.caseId());
            noReport += top.isEmpty() ? 1 : 0;
            retrieved.add(top);
        }
        ObjectNode out = JSON.createObjectNode();
        out.put("task", "report_generation");
        out.put("split", split);
        out.put("n", gold.size());
        out.put("generator", generator);
        out.put("bleu_1", TextMetrics.bleu(generated, gold, 1));
        out.put("bleu_4", TextMetrics.bleu(generated, gold, 4));
        out.put("rouge_l", TextMetrics.rougeL(generated, gold));
        out.put("baseline", "top retrieved report of another case");
        out.put("baseline_bleu_1", TextMetrics.bleu(retrieved, gold, 1));
        out.put("baseline_bleu_4", TextMetrics.bleu(retrieved, gold, 4));
        out.put("baseline_rouge_l", TextMetrics.rougeL(retrieved, gold));
        out.put("baseline_without_report", noReport);
        out.put("p50_ms", EvalCommand.percentile(millis, 50));
        out.put("p95_ms", EvalCommand.percentile(millis, 95));
        Path file = Main.writeFigures("eval", "report-generation-" + split, out);
        if (args.flag("json")) {
            System.out.println(out);
        } else {
            System.out.printf("report generation on MedPix %s with %s (n=%d): BLEU-1 %.3f BLEU-4 %.3f ROUGE-L %.3f;"
                    + " top retrieved report: BLEU-1 %.3f BLEU-4 %.3f ROUGE-L %.3f%n", split, generator, gold.size(),
                    out.get("bleu_1").asDouble(), out.get("bleu_4").asDouble(), out.get("rouge_l").asDouble(),
                    out.get("baseline_bleu_1").asDouble(), out.get("baseline_bleu_4").asDouble(), out.get("baseline_rouge_l").asDouble());
        }
        System.err.println("written to " + file);
        return 0;
    }

    /** The best-ranked report whose metadata names another case (or none), "" when there is none. */
    static String topOtherCase(List<ReportHit> reports, String caseId) {
        return reports.stream().filter(h -> !caseId.equals(h.getMetadataMap().get("case_id"))).map(ReportHit::getText)
                .findFirst().orElse("");
    }

    /** All items, or a seeded sample of {@code limit} of them in their original order. */
    static <T> List<T> sample(List<T> items, int limit) {
        if (limit < 1) {
            throw new Args.UsageException("--limit must be at least 1");
        }
        if (limit >= items.size()) {
            return items;
        }
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            idx.add(i);
        }
        Collections.shuffle(idx, new Random(SAMPLE_SEED));
        List<Integer> chosen = new ArrayList<>(idx.subList(0, limit));
        Collections.sort(chosen);
        return chosen.stream().map(items::get).toList();
    }

    private static double ratio(double num, double den) {
        return den == 0 ? 0 : num / den;
    }
}

package io.heterorag.cli;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.grpc.StatusRuntimeException;
import io.heterorag.model.evaluation.VqaScoring;
import io.heterorag.proto.v1.AnswerOptions;
import io.heterorag.proto.v1.AnswerRequest;
import io.heterorag.proto.v1.AnswerResponse;
import io.heterorag.proto.v1.ClinicalRagGrpc;
import io.heterorag.proto.v1.Image;
import io.heterorag.proto.v1.KnowledgeHit;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.ReportHit;
import io.heterorag.proto.v1.Task;

/**
 * The generator's training and evaluation examples (docs/generator.md, "Training examples"): VQA
 * questions and MedPix image → Findings, each with the evidence the running stack retrieves for it
 * (an evidence_only Answer). Training: VQA-RAD and PathVQA train without their held-out images, SLAKE
 * train, MedPix train; evaluation: the held-out images, SLAKE validate, MedPix dev.
 */
final class GeneratorExamples {

    static final long SEED = 7;
    static final int DEMO_TRAIN = 2000;
    static final int DEMO_EVAL = 300;
    static final int CONCURRENCY = 4;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One example before its evidence is attached; {@code excludeCase}/{@code excludeImage} name evidence that would leak the answer. */
    record Example(String id, String set, Path image, Task task, String question, String answer, String answerType,
            String questionType, List<String> choices, Modality modality, String excludeCase, String excludeImage) {
    }

    private GeneratorExamples() {
    }

    /** Training (index 0) and evaluation (index 1) examples per source, in file order. */
    static List<Map<String, List<Example>>> collect(Path vqaRoot, Path medpixDir) {
        Map<String, List<Example>> train = new LinkedHashMap<>();
        Map<String, List<Example>> eval = new LinkedHashMap<>();
        for (String name : List.of("vqa-rad", "slake", "pathvqa")) {
            Path dir = vqaRoot.resolve(name);
            if (!Files.isDirectory(dir)) {
                throw new IllegalArgumentException("missing VQA set " + dir + " (--vqa is the folder holding vqa-rad, slake, pathvqa)");
            }
            VqaSet set = new VqaSet(dir);
            boolean ownValidation = set.has("validate");
            train.put(name, vqa(set, set.questions(ownValidation ? "train" : VqaSet.TRAIN_KEPT)));
            eval.put(name, vqa(set, set.questions(ownValidation ? "validate" : VqaSet.HELD_OUT)));
        }
        MedPix medpix = new MedPix(medpixDir);
        train.put("medpix", medpix(medpix, "train"));
        eval.put("medpix", medpix(medpix, "dev"));
        return List.of(train, eval);
    }

    static List<Example> vqa(VqaSet set, List<VqaSet.Question> questions) {
        List<Example> out = new ArrayList<>();
        for (VqaSet.Question q : questions) {
            String gold = VqaScoring.normalize(q.answer());
            boolean yesNo = q.closed() && (gold.equals("yes") || gold.equals("no"));
            String stem = q.image().replaceFirst("\\.[^.]+$", "");
            out.add(new Example(set.name + ":" + q.id(), set.name, set.imagePath(q), yesNo ? Task.CLOSED_VQA : Task.OPEN_VQA,
                    q.question(), q.answer(), q.answerType(), q.questionType(), yesNo ? List.of("yes", "no") : List.of(),
                    q.modality().equals("pathology") ? Modality.PATHOLOGY : Modality.RADIOLOGY, "", stem));
        }
        return out;
    }

    static List<Example> medpix(MedPix medpix, String split) {
        Map<String, String> findings = new LinkedHashMap<>();
        medpix.cases(split).forEach(c -> findings.put(c.id(), c.findings()));
        List<Example> out = new ArrayList<>();
        for (MedPix.ImageReport r : medpix.reports(split)) {
            String f = findings.getOrDefault(r.caseId(), "");
            if (!f.isBlank() && Files.exists(r.path())) {
                out.add(new Example("medpix:" + r.image(), "medpix", r.path(), Task.REPORT_GENERATION, "", f, "report", "",
                        List.of(), Modality.RADIOLOGY, r.caseId(), r.image()));
            }
        }
        return out;
    }

    /**
     * All examples (full), or {@code n} of them drawn round-robin from the sources, each source
     * shuffled with a fixed seed, so every set is represented even when one is much larger.
     */
    static List<Example> choose(Map<String, List<Example>> bySource, int n, boolean full) {
        if (full) {
            return bySource.values().stream().flatMap(List::stream).toList();
        }
        List<List<Example>> queues = new ArrayList<>();
        Random random = new Random(SEED);
        for (List<Example> examples : bySource.values()) {
            List<Example> shuffled = new ArrayList<>(examples);
            Collections.shuffle(shuffled, random);
            queues.add(shuffled);
        }
        List<Example> out = new ArrayList<>();
        int[] next = new int[queues.size()];
        boolean progress = true;
        while (out.size() < n && progress) {
            progress = false;
            for (int s = 0; s < queues.size() && out.size() < n; s++) {
                if (next[s] < queues.get(s).size()) {
                    out.add(queues.get(s).get(next[s]++));
                    progress = true;
                }
            }
        }
        return out;
    }

    /** Asks for each example's evidence (concurrency 4) and writes the JSONL file; returns the number written. */
    static int write(ClinicalRagGrpc.ClinicalRagBlockingStub stub, List<Example> examples, Path file) throws InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(CONCURRENCY);
        try (BufferedWriter w = Files.newBufferedWriter(file)) {
            // a window at a time: responses carry report and document texts, a full run has ~28,000
            for (int start = 0; start < examples.size(); start += 64) {
                List<Future<AnswerResponse>> futures = new ArrayList<>();
                for (Example e : examples.subList(start, Math.min(examples.size(), start + 64))) {
                    futures.add(pool.submit(() -> stub.answer(evidenceRequest(e))));
                }
                for (int i = 0; i < futures.size(); i++) {
                    w.write(line(examples.get(start + i), futures.get(i).get()));
                    w.newLine();
                }
                int done = Math.min(examples.size(), start + 64);
                if (done % 512 == 0 || done == examples.size()) {
                    System.err.println(file.getFileName() + ": " + done + "/" + examples.size() + " examples with evidence");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof StatusRuntimeException s) {
                throw s;
            }
            throw new IllegalStateException("evidence request failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
        return examples.size();
    }

    static AnswerRequest evidenceRequest(Example e) {
        AnswerRequest.Builder req = AnswerRequest.newBuilder().setRequestId("examples-" + e.id()).setTask(e.task())
                .setModality(e.modality()).setQuestion(e.question())
                .setImage(Image.newBuilder().setData(ByteString.copyFrom(AtlasSources.read(e.image()))).setMediaType(AskCommand.mediaType(e.image())))
                .setOptions(AnswerOptions.newBuilder().setEvidenceOnly(true));
        return req.build();
    }

    /** The example as one JSONL line, with the retrieved evidence (a report of its own case or image left out). */
    static String line(Example e, AnswerResponse evidence) throws IOException {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("id", e.id());
        o.put("set", e.set());
        o.put("image_path", e.image().toAbsolutePath().normalize().toString());
        o.put("task", e.task().name().toLowerCase(java.util.Locale.ROOT));
        o.put("question", e.question());
        o.put("answer", e.answer());
        o.put("answer_type", e.answerType());
        o.put("question_type", e.questionType());
        o.put("choices", e.choices());
        o.put("documents", evidence.getKnowledgeList().stream().map(GeneratorExamples::document).toList());
        o.put("reports", evidence.getReportsList().stream().filter(h -> !leaks(h, e)).map(ReportHit::getText).toList());
        // the evidence ids, in the same order (preference pairs name what each side held)
        o.put("document_ids", evidence.getKnowledgeList().stream().map(KnowledgeHit::getId).toList());
        o.put("report_ids", evidence.getReportsList().stream().filter(h -> !leaks(h, e)).map(ReportHit::getId).toList());
        return JSON.writeValueAsString(o);
    }

    static String document(KnowledgeHit k) {
        return k.getTitle().isBlank() ? k.getText() : k.getTitle() + ": " + k.getText();
    }

    /**
     * A retrieved report of the example's own MedPix case, or of its own image (VQA-RAD images are
     * MedPix images, stored as CASE_synpicN): training on it would teach copying the answer, which
     * evaluation images, absent from the repository, cannot offer.
     */
    static boolean leaks(ReportHit h, Example e) {
        Map<String, String> m = h.getMetadataMap();
        String image = m.getOrDefault("image", "");
        return (!e.excludeCase().isEmpty() && e.excludeCase().equals(m.get("case_id")))
                || (!e.excludeImage().isEmpty() && (image.equals(e.excludeImage()) || image.endsWith("_" + e.excludeImage())));
    }
}

package io.heterorag.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.ManagedChannel;
import io.heterorag.proto.v1.AnswerOptions;
import io.heterorag.proto.v1.ClinicalRagGrpc;
import io.heterorag.proto.v1.GetJobRequest;
import io.heterorag.proto.v1.Job;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.StartJobRequest;
import io.heterorag.proto.v1.TuningGrpc;

/**
 * {@code train modclip --modality M --data DIR [--split train] [--eval-split dev] [--epochs N] [--no-promote] [--json]}:
 * writes the split's image–report pairs as report-repository JSONL, starts a ModCLIP job in
 * tuning-service and follows it to the end. A job that beats the serving model is promoted.
 * <p>
 * {@code train dpo --vqa DIR --medpix DIR [...]}: the same examples; the dpo job makes preference pairs with the served
 * generator, tunes it (DPO) and compares it with the served one (docs/preference-tuning.md).
 * <p>
 * {@code train generator --vqa DIR --medpix DIR [--full] [--epochs N] [--no-promote] [--json]}: writes the
 * generator's examples with the stack's evidence ({@link GeneratorExamples}), starts a generator job
 * and follows it; a promoted generator is awaited until generation-service answers with it. {@code --examples DIR}
 * trains on the train.jsonl/eval.jsonl an earlier run wrote there instead of collecting evidence again;
 * {@code --train-examples N --eval-examples N} size the demo mix (2,000 and 300).
 */
final class TrainCommand {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Job parameters passed through from the command line ("--batch-size" → "batch_size"). */
    private static final List<String> MODCLIP_PARAMETERS = List.of("epochs", "batch-size", "learning-rate", "image-size", "dimension", "seed");
    private static final List<String> GENERATOR_PARAMETERS = List.of("epochs", "batch-size", "learning-rate", "hidden", "layers", "heads",
            "context", "image-size", "seed", "copy-loss");
    private static final List<String> DPO_PARAMETERS = List.of("epochs", "batch-size", "learning-rate", "beta", "seed", "max-examples",
            "threads", "bundle");

    private TrainCommand() {
    }

    static int run(ManagedChannel channel, Args args) throws InterruptedException {
        String what = args.positional.size() == 1 ? args.positional.get(0) : "";
        return switch (what) {
            case "modclip" -> modclip(channel, args);
            case "generator" -> generator(channel, args);
            case "dpo" -> dpo(channel, args);
            case "pairs" -> pairs(channel, args);
            case "mqg" -> mqg(channel, args);
            default -> throw new Args.UsageException("usage: train modclip --modality M --data DIR [--epochs N] [--no-promote] [--json]\n"
                    + "       train generator --vqa DIR --medpix DIR [--full | --train-examples N --eval-examples N] [--examples DIR]"
                    + " [--epochs N] [--no-promote] [--json]\n"
                    + "       train dpo --vqa DIR --medpix DIR [--train-examples N --eval-examples N] [--examples DIR]"
                    + " [--epochs N] [--beta B] [--no-promote] [--json]\n"
                    + "       train pairs --out FILE.jsonl [--kind cross_modality|knowledge_use|knowledge_robustness|correction]\n"
                    + "       train mqg --medpix DIR [--examples DIR] [--epochs N] [--no-promote] [--json]");
        };
    }

    static int modclip(ManagedChannel channel, Args args) throws InterruptedException {
        Modality modality = Main.protoEnum(Modality.class, args.required("modality"), "radiology, ophthalmology, pathology");
        MedPix medpix = new MedPix(Path.of(args.required("data")));
        Path dir = tempDir("modclip-pairs");
        StartJobRequest.Builder req = StartJobRequest.newBuilder().setKind("modclip").setModality(modality)
                .putParameters("train", pairs(medpix, args.get("split", "train"), dir).toString())
                .putParameters("eval", pairs(medpix, args.get("eval-split", "dev"), dir).toString());
        parameters(req, args, MODCLIP_PARAMETERS);
        Job job = follow(TuningGrpc.newBlockingStub(channel), req.build());
        if (job.getPromoted()) {
            awaitServed(modality, job.getModel());
        }
        return print(job, args);
    }

    static int generator(ManagedChannel channel, Args args) throws InterruptedException {
        ManagedChannel generation = generationChannel();
        try {
            var stub = ClinicalRagGrpc.newBlockingStub(generation);
            Examples ex = writeExamples(stub, args);
            StartJobRequest.Builder req = StartJobRequest.newBuilder().setKind("generator")
                    .putParameters("train", ex.dir().resolve("train.jsonl").toString())
                    .putParameters("eval", ex.dir().resolve("eval.jsonl").toString());
            parameters(req, args, GENERATOR_PARAMETERS);
            Job job = follow(TuningGrpc.newBlockingStub(channel), req.build());
            if (job.getPromoted()) {
                awaitGenerator(stub, ex.probe(), job.getModel());
            }
            return print(job, args);
        } finally {
            generation.shutdownNow();
        }
    }

    /**
     * {@code train dpo --vqa DIR --medpix DIR [...]}: the generator's examples as {@code train generator}
     * writes them; the job makes preference pairs from train.jsonl with the served generator, tunes it
     * with DPO and compares it with the served one on eval.jsonl. Prints pairs per kind, before, after,
     * promoted; exports the stored pairs as JSONL (pairs.jsonl beside the examples).
     */
    static int dpo(ManagedChannel channel, Args args) throws InterruptedException {
        ManagedChannel generation = generationChannel();
        try {
            var stub = ClinicalRagGrpc.newBlockingStub(generation);
            Examples ex = writeExamples(stub, args);
            StartJobRequest.Builder req = StartJobRequest.newBuilder().setKind("dpo")
                    .putParameters("train", ex.dir().resolve("train.jsonl").toString())
                    .putParameters("eval", ex.dir().resolve("eval.jsonl").toString());
            parameters(req, args, DPO_PARAMETERS);
            TuningGrpc.TuningBlockingStub tuning = TuningGrpc.newBlockingStub(channel);
            Job job = follow(tuning, req.build());
            Path pairs = ex.dir().resolve("pairs.jsonl");
            long exported = PairsExport.write(tuning, "", pairs);
            System.err.println(exported + " stored preference pairs exported to " + pairs);
            if (job.getPromoted()) {
                awaitGenerator(stub, ex.probe(), job.getModel());
            }
            ObjectNode out = dpoRecord(job);
            out.put("pairs_file", pairs.toString());
            System.out.println(args.flag("json") ? out.toString() : out.toPrettyString());
            return job.getState().equals("succeeded") ? 0 : 1;
        } finally {
            generation.shutdownNow();
        }
    }

    /** {@code train pairs --out FILE [--kind K]}: the stored preference pairs (all, or of one kind) as JSONL. */
    static int pairs(ManagedChannel channel, Args args) {
        Path out = Path.of(args.required("out")).toAbsolutePath();
        long n = PairsExport.write(TuningGrpc.newBlockingStub(channel), args.get("kind", ""), out);
        System.out.println(JSON.createObjectNode().put("pairs", n).put("file", out.toString()));
        return 0;
    }

    /** The job as `train dpo` prints it: pairs per kind, the held-out figures before and after, promoted, epochs, times. */
    static ObjectNode dpoRecord(Job job) {
        ObjectNode out = JSON.createObjectNode();
        Map<String, Double> m = job.getMetricsMap();
        ObjectNode pairs = out.putObject("pairs");
        for (String kind : List.of("cross_modality", "knowledge_use", "knowledge_robustness")) {
            pairs.put(kind, m.getOrDefault("pairs_" + kind, 0.0).longValue());
        }
        for (String when : List.of("before", "after")) {
            ObjectNode f = out.putObject(when);
            for (String name : List.of("closed_accuracy", "noisy_knowledge_accuracy", "mismatched_image_drop")) {
                if (m.containsKey(when + "_" + name)) {
                    f.put(name, m.get(when + "_" + name));
                }
            }
        }
        out.put("promoted", job.getPromoted());
        var epochs = out.putArray("epochs");
        for (int e = 1; m.containsKey("epoch" + e + "_loss"); e++) {
            epochs.addObject().put("epoch", e).put("loss", m.get("epoch" + e + "_loss"))
                    .put("reward_margin", m.get("epoch" + e + "_reward_margin"))
                    .put("reward_accuracy", m.get("epoch" + e + "_reward_accuracy"));
        }
        for (String k : List.of("closed_n", "pair_examples", "pair_seconds", "train_seconds", "ms_per_batch", "start_max_abs_diff",
                "parity_max_abs_diff")) {
            if (m.containsKey(k)) {
                out.put(k, m.get(k));
            }
        }
        out.put("model", job.getModel());
        out.put("started_from", job.getParametersOrDefault("bundle", ""));
        out.put("job_id", job.getJobId());
        out.put("state", job.getState());
        out.put("bundle_path", job.getBundlePath());
        if (!job.getError().isEmpty()) {
            out.put("error", job.getError());
        }
        return out;
    }

    /** Where the examples lie and one of them (to probe which generator serves). */
    record Examples(Path dir, GeneratorExamples.Example probe) {
    }

    /**
     * Writes the generator's train.jsonl/eval.jsonl with the stack's evidence ({@code --full}, or the demo
     * mix sized by {@code --train-examples}/{@code --eval-examples}), or reuses those of {@code --examples DIR}.
     */
    static Examples writeExamples(ClinicalRagGrpc.ClinicalRagBlockingStub stub, Args args) throws InterruptedException {
        Path vqa = Path.of(args.required("vqa"));
        Path medpix = Path.of(args.required("medpix"));
        boolean full = args.flag("full");
        List<java.util.Map<String, List<GeneratorExamples.Example>>> parts = GeneratorExamples.collect(vqa, medpix);
        List<GeneratorExamples.Example> train = GeneratorExamples.choose(parts.get(0),
                args.integer("train-examples", GeneratorExamples.DEMO_TRAIN), full);
        List<GeneratorExamples.Example> eval = GeneratorExamples.choose(parts.get(1),
                args.integer("eval-examples", GeneratorExamples.DEMO_EVAL), full);
        if (train.isEmpty() || eval.isEmpty()) {
            throw new Args.UsageException("--train-examples and --eval-examples must be at least 1");
        }
        String reuse = args.get("examples", null);
        Path dir = reuse != null ? Path.of(reuse).toAbsolutePath() : examplesDir();
        if (reuse == null) {
            System.err.println("collecting evidence for " + train.size() + " training and " + eval.size() + " evaluation examples ("
                    + (full ? "all" : "demo subset; --full for all") + ") into " + dir);
            GeneratorExamples.write(stub, train, dir.resolve("train.jsonl"));
            GeneratorExamples.write(stub, eval, dir.resolve("eval.jsonl"));
        } else if (!Files.isRegularFile(dir.resolve("train.jsonl")) || !Files.isRegularFile(dir.resolve("eval.jsonl"))) {
            throw new IllegalArgumentException("--examples " + dir + " needs train.jsonl and eval.jsonl (written by an earlier run)");
        } else {
            System.err.println("using the examples already written in " + dir);
        }
        return new Examples(dir, train.get(0));
    }

    private static ManagedChannel generationChannel() {
        return Main.channel(Main.env("HETERORAG_GENERATION", "127.0.0.1:9103"));
    }

    /**
     * {@code train mqg --medpix DIR}: writes the MQG's examples, scored with the stack's retrieval
     * ({@link MqgExamples}: MedPix train to train on, dev to evaluate), starts an mqg job (which scores
     * the trained model's queries with the same retrieval) and follows it; a promoted model is awaited
     * until generation-service's answers name it as their query generator.
     */
    static int mqg(ManagedChannel channel, Args args) throws InterruptedException {
        MedPix medpix = new MedPix(Path.of(args.required("medpix")));
        String reuse = args.get("examples", null);
        Path dir = reuse != null ? Path.of(reuse).toAbsolutePath() : examplesDir("mqg");
        String retrievalTarget = Main.env("HETERORAG_RETRIEVAL", "127.0.0.1:9101");
        ManagedChannel generation = generationChannel();
        ManagedChannel retrievalChannel = Main.channel(retrievalTarget);
        try {
            var stub = ClinicalRagGrpc.newBlockingStub(generation);
            ObjectNode made = JSON.createObjectNode();
            if (reuse == null) {
                var retrieval = io.heterorag.proto.v1.RetrievalGrpc.newBlockingStub(retrievalChannel);
                List<io.heterorag.proto.v1.Corpus> corpora = MqgExamples.nonEmpty(retrieval);
                System.err.println("scoring candidate queries on " + corpora + " (empty corpora are skipped) into " + dir);
                long t0 = System.nanoTime();
                for (String[] split : new String[][] {{"train", "train.jsonl"}, {"dev", "eval.jsonl"}}) {
                    MqgExamples.Written w = MqgExamples.write(retrieval, medpix, split[0], corpora, dir.resolve(split[1]));
                    ObjectNode o = made.putObject(split[0]);
                    o.put("cases", w.cases());
                    o.put("examples", w.examples());
                    o.put("gold_found", w.withHit());
                    o.put("question_terms_found", w.questionTermsHit());
                    o.put("reports_name_gold", w.reportsNameGold());
                    o.put("report_term_gains", w.reportTermGains());
                    o.put("report_term_losses", w.reportTermLosses());
                    w.tags().forEach(o::put);
                    System.err.println(split[0] + ": " + w.cases() + " cases, " + w.examples() + " examples, gold topic found by a candidate for "
                            + w.withHit() + ", by the question's terms for " + w.questionTermsHit() + ", named by a retrieved report for "
                            + w.reportsNameGold() + "; one report term added gains it " + w.reportTermGains() + " times, loses it "
                            + w.reportTermLosses());
                }
                made.put("seconds", (System.nanoTime() - t0) / 1e9);
            } else if (!Files.isRegularFile(dir.resolve("train.jsonl")) || !Files.isRegularFile(dir.resolve("eval.jsonl"))) {
                throw new IllegalArgumentException("--examples " + dir + " needs train.jsonl and eval.jsonl (written by an earlier run)");
            }
            StartJobRequest.Builder req = StartJobRequest.newBuilder().setKind("mqg")
                    .putParameters("train", dir.resolve("train.jsonl").toString())
                    .putParameters("eval", dir.resolve("eval.jsonl").toString())
                    .putParameters("retrieval", retrievalTarget);
            parameters(req, args, GENERATOR_PARAMETERS);
            Job job = follow(TuningGrpc.newBlockingStub(channel), req.build());
            if (job.getPromoted()) {
                System.err.println("waiting for querygen-service to serve " + job.getModel());
                var probe = io.heterorag.proto.v1.AnswerRequest.newBuilder().setRequestId("await-mqg").setModality(Modality.RADIOLOGY)
                        .setTask(io.heterorag.proto.v1.Task.OPEN_VQA).setQuestion(EvalCommand.QUESTION)
                        .setOptions(AnswerOptions.newBuilder().setEvidenceOnly(true).setSkipReports(true)).build();
                await("querygen-service", job.getModel(), () -> stub.answer(probe).getModels().getQueryGenerator());
            }
            ObjectNode out = record(job);
            out.put("examples_dir", dir.toString());
            out.set("examples", made);
            System.out.println(args.flag("json") ? out.toString() : out.toPrettyString());
            return job.getState().equals("succeeded") ? 0 : 1;
        } finally {
            generation.shutdownNow();
            retrievalChannel.shutdownNow();
        }
    }

    /** $HETERORAG_HOME/train/KIND-TIMESTAMP. */
    static Path examplesDir(String kind) {
        try {
            return Files.createDirectories(Main.home().resolve("train").resolve(kind + "-" + System.currentTimeMillis()).toAbsolutePath());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Passes the named options through as job parameters, plus "promote". */
    static void parameters(StartJobRequest.Builder req, Args args, List<String> names) {
        for (String p : names) {
            String v = args.get(p, null);
            if (v != null) {
                req.putParameters(p.replace('-', '_'), v);
            }
        }
        req.putParameters("promote", String.valueOf(!args.flag("no-promote")));
    }

    /** Starts the job and polls it to its end, printing progress to stderr. */
    static Job follow(TuningGrpc.TuningBlockingStub tuning, StartJobRequest request) throws InterruptedException {
        Job job = tuning.startJob(request);
        System.err.println(request.getKind() + " job " + job.getJobId() + " started");
        String last = "";
        while (job.getState().equals("queued") || job.getState().equals("running")) {
            Thread.sleep(1000);
            job = tuning.getJob(GetJobRequest.newBuilder().setJobId(job.getJobId()).build());
            if (!job.getProgress().equals(last)) {
                last = job.getProgress();
                System.err.println(last);
            }
        }
        return job;
    }

    /** Prints the job record (one JSON line with --json); exit code 0 when it succeeded. */
    static int print(Job job, Args args) {
        ObjectNode out = record(job);
        System.out.println(args.flag("json") ? out.toString() : out.toPrettyString());
        return job.getState().equals("succeeded") ? 0 : 1;
    }

    static ObjectNode record(Job job) {
        ObjectNode out = JSON.createObjectNode();
        out.put("model", job.getModel());
        out.put("kind", job.getKind());
        out.put("job_id", job.getJobId());
        out.put("state", job.getState());
        out.put("promoted", job.getPromoted());
        out.put("bundle_path", job.getBundlePath());
        job.getMetricsMap().forEach(out::put);
        if (!job.getError().isEmpty()) {
            out.put("error", job.getError());
        }
        return out;
    }

    /** Retrieval re-embeds the repository with a promoted model before serving it: wait for that. */
    static void awaitServed(Modality modality, String model) throws InterruptedException {
        String endpoint = Main.env("HETERORAG_RETRIEVAL", "127.0.0.1:9101");
        ManagedChannel ch = Main.channel(endpoint);
        try {
            var retrieval = io.heterorag.proto.v1.RetrievalGrpc.newBlockingStub(ch);
            System.err.println("waiting for retrieval-service to re-embed the repository and serve " + model);
            await("retrieval-service", model, () -> retrieval.embed(io.heterorag.proto.v1.EmbedRequest.newBuilder()
                    .setModality(modality).build()).getImageEncoder());
        } finally {
            ch.shutdownNow();
        }
    }

    /** generation-service loads a promoted generator when it hears of it: wait until its answers name it. */
    static void awaitGenerator(ClinicalRagGrpc.ClinicalRagBlockingStub stub, GeneratorExamples.Example probe, String model)
            throws InterruptedException {
        System.err.println("waiting for generation-service to serve " + model);
        var req = GeneratorExamples.evidenceRequest(probe).toBuilder().setRequestId("await-generator")
                .setOptions(AnswerOptions.newBuilder().setEvidenceOnly(true).setSkipReports(true)).build();
        await("generation-service", model, () -> stub.answer(req).getModels().getAnswerer());
    }

    private static void await(String service, String model, java.util.function.Supplier<String> serving) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(15);
        while (!serving.get().equals(model)) {
            if (System.nanoTime() > end) {
                throw new IllegalStateException(service + " did not serve " + model + " within 15 minutes");
            }
            Thread.sleep(1000);
        }
    }

    /** The split's pairs as {id, image_path, report} lines (the report text that ingest stores). */
    static Path pairs(MedPix medpix, String split, Path dir) {
        List<String> lines = new ArrayList<>();
        try {
            for (MedPix.ImageReport r : medpix.reports(split)) {
                if (Files.exists(r.path())) {
                    lines.add(JSON.writeValueAsString(Map.of("id", "medpix:" + r.image(),
                            "image_path", r.path().toAbsolutePath().toString(), "report", r.report())));
                }
            }
            Path f = dir.resolve(split + ".jsonl");
            Files.write(f, lines);
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** $HETERORAG_HOME/train/generator-TIMESTAMP: kept, so a job's examples can be read afterwards. */
    static Path examplesDir() {
        Path dir = Main.home().resolve("train").resolve("generator-" + System.currentTimeMillis())
                .toAbsolutePath();
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path tempDir(String prefix) {
        try {
            return Files.createTempDirectory(prefix);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

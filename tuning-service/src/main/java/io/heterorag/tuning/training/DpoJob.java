package io.heterorag.tuning.training;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import io.heterorag.model.bundle.ExecutionProviders;
import io.heterorag.model.bundle.ModelBundles;
import io.heterorag.model.evaluation.VqaScoring;
import io.heterorag.model.generation.DecodingOptions;
import io.heterorag.model.generation.GenerationInput;
import io.heterorag.model.generation.Generator;
import io.heterorag.model.generation.OnnxGenerator;
import io.heterorag.model.generation.RagPrompt;
import io.heterorag.model.generation.VlmConfig;
import io.heterorag.model.generation.VlmOnnxExport;
import io.heterorag.model.image.ImageEncoder;
import io.heterorag.proto.v1.ModelBundleManifest;
import io.heterorag.proto.v1.PairSide;
import io.heterorag.proto.v1.PreferencePair;
import io.heterorag.tuning.preference.LabelledExamples;
import io.heterorag.tuning.preference.LabelledExamples.Labelled;
import io.heterorag.tuning.preference.PairBuilder;
import io.heterorag.tuning.preference.VisionFeatures;
import io.heterorag.tuning.training.GeneratorExamples.Example;

/**
 * One DPO job (docs/preference-tuning.md): make HKPT pairs by re-running the served generator on
 * the labelled training examples with ablated inputs (stored as they are made), compute the frozen
 * reference's log-probabilities once with the runtime's {@code logProb}, train the served weights
 * with the sigmoid DPO loss, export, check the export against the trained network, and evaluate the
 * served and the tuned model on the same held-out examples. Promotable only when not worse on any
 * of the three figures.
 */
public final class DpoJob {

    /** Documents of an unrelated example put in front of an example's own (the noisy-knowledge figure). */
    static final int NOISE_DOCUMENTS = 2;

    /** What a job runs with. */
    public record Settings(DpoTrainer.Config training, int maxExamples, int threads) {
    }

    /** The three held-out figures of one model. */
    public record Figures(double closedAccuracy, double noisyKnowledgeAccuracy, double mismatchedImageDrop, int closedN) {

        /** Not worse than {@code before} on any figure (a larger mismatched-image drop means the answer leans on the image more). */
        public boolean notWorseThan(Figures before) {
            return closedAccuracy >= before.closedAccuracy && noisyKnowledgeAccuracy >= before.noisyKnowledgeAccuracy
                    && mismatchedImageDrop >= before.mismatchedImageDrop;
        }

        void into(Map<String, Double> m, String prefix) {
            m.put(prefix + "closed_accuracy", closedAccuracy);
            m.put(prefix + "noisy_knowledge_accuracy", noisyKnowledgeAccuracy);
            m.put(prefix + "mismatched_image_drop", mismatchedImageDrop);
        }
    }

    /** What a finished job produced; {@code promotable}: the tuned model is not worse than the served one. */
    public record Outcome(Path bundle, String modelId, Map<String, Double> metrics, boolean promotable) {
    }

    private DpoJob() {
    }

    public static Outcome run(Path served, Path trainFile, Path evalFile, Settings s, Path bundleDir, String name, String version,
            Map<String, String> parameters, Consumer<PreferencePair> sink, Consumer<String> progress) {
        progress.accept("loading the served generator " + served.getFileName());
        VlmBundleWeights start = VlmBundleWeights.read(served);
        VlmConfig cfg = start.config();
        int budget = cfg.maxNewTokens();
        List<Labelled> train = LabelledExamples.read(trainFile, s.maxExamples());
        List<Labelled> eval = LabelledExamples.read(evalFile, s.maxExamples());
        ExecutionProviders.Choice cpu = ExecutionProviders.choose("cpu", 0);
        Map<String, Double> metrics = new LinkedHashMap<>();
        try (OnnxGenerator reference = OnnxGenerator.load(served, cpu);
                VisionFeatures features = new VisionFeatures(served, cfg.imageSize(), cpu.options())) {
            PairBuilder builder = new PairBuilder(reference, features, budget);
            long t0 = System.nanoTime();
            PairBuilder.Built built = builder.build(train, s.threads(), progress);
            metrics.put("pair_seconds", (System.nanoTime() - t0) / 1e9);
            built.pairs().forEach(sink);
            built.counts().forEach((kind, n) -> metrics.put("pairs_" + kind, (double) n));
            metrics.put("pairs", (double) built.pairs().size());
            metrics.put("pair_examples", (double) built.examined());
            metrics.put("pair_skipped_reports", (double) built.skippedReports());
            progress.accept("pairs: " + built.counts() + " from " + built.examined() + " questions");
            if (built.pairs().isEmpty()) {
                throw new IllegalArgumentException("the served generator gave no preference pair on " + built.examined()
                        + " training questions: nothing to tune");
            }

            Map<Path, Path> mismatched = builder.leastSimilar(eval, progress);
            progress.accept("evaluating the served generator on the held-out questions");
            Figures before = evaluate(reference, eval, mismatched, budget);
            before.into(metrics, "before_");

            progress.accept("reference log-probabilities of " + built.pairs().size() + " pairs");
            Laid laid = lay(reference, built.pairs(), cfg.imageSize());
            GeneratorNetwork.Dims dims = new GeneratorNetwork.Dims(cfg.vocabSize(), cfg.hidden(), cfg.layers(), cfg.heads(), cfg.context(),
                    cfg.imageSize(), cfg.visionChannels());
            List<GeneratorTrainer.Sequence> parity = laid.pairs.stream().limit(GeneratorTrainer.PARITY_SAMPLES)
                    .map(DpoTrainer.Pair::chosen).toList();
            t0 = System.nanoTime();
            DpoTrainer.Trained trained = DpoTrainer.train(laid.pairs, laid.images, start.weights(), dims, s.training(), parity, progress);
            metrics.put("train_seconds", (System.nanoTime() - t0) / 1e9);
            metrics.put("start_max_abs_diff", trained.startMaxAbsDiff());
            metrics.put("ms_per_batch", trained.msPerBatch());
            for (DpoTrainer.Epoch e : trained.epochs()) {
                metrics.put("epoch" + e.epoch() + "_loss", e.loss());
                metrics.put("epoch" + e.epoch() + "_reward_margin", e.margin());
                metrics.put("epoch" + e.epoch() + "_reward_accuracy", e.accuracy());
            }
            DpoTrainer.Epoch last = trained.epochs().get(trained.epochs().size() - 1);
            metrics.put("final_loss", last.loss());
            metrics.put("final_reward_margin", last.margin());
            metrics.put("final_reward_accuracy", last.accuracy());

            VlmOnnxExport.write(bundleDir, cfg, trained.weights(), start.tokenizerJson());
            Figures after;
            try (OnnxGenerator tuned = OnnxGenerator.load(bundleDir, cpu)) {
                progress.accept("checking the exported model against the trained one");
                metrics.put("parity_max_abs_diff", parity(tuned, laid, parity, trained.parityLogits()));
                metrics.put("parity_cached_decoding", (double) cachedParity(tuned, laid, parity, budget));
                progress.accept("evaluating the tuned generator on the held-out questions");
                after = evaluate(tuned, eval, mismatched, budget);
            }
            after.into(metrics, "after_");
            metrics.put("closed_accuracy", after.closedAccuracy());
            metrics.put("closed_n", (double) after.closedN());
            boolean notWorse = after.notWorseThan(before);
            metrics.put("not_worse", notWorse ? 1.0 : 0.0);

            Map<String, String> training = new LinkedHashMap<>(parameters);
            training.put("started_from", reference.id());
            training.put("loss", "sigmoid DPO, beta " + s.training().beta() + ", frozen reference (runtime logProb)");
            training.put("pairs", String.valueOf(built.pairs().size()));
            ModelBundles.write(bundleDir, ModelBundleManifest.newBuilder().setName(name).setVersion(version).setKind("generator")
                    .putAllTraining(training).putAllMetrics(metrics).build());
            return new Outcome(bundleDir, name + "@" + version, metrics, notWorse);
        } finally {
            cpu.options().close();
        }
    }

    /** Pairs laid out as training sequences (the runtime's ids), the preprocessed images, and each side's runtime input. */
    record Laid(List<DpoTrainer.Pair> pairs, List<float[]> images, Map<String, GenerationInput> inputs, Map<String, String> answers) {
    }

    static Laid lay(OnnxGenerator runtime, List<PreferencePair> pairs, int imageSize) {
        List<DpoTrainer.Pair> out = new ArrayList<>();
        List<float[]> images = new ArrayList<>();
        Map<String, Integer> imageIndex = new HashMap<>();
        Map<String, GenerationInput> inputs = new HashMap<>();
        Map<String, String> answers = new HashMap<>();
        for (PreferencePair p : pairs) {
            GeneratorTrainer.Sequence[] seq = new GeneratorTrainer.Sequence[2];
            double[] ref = new double[2];
            PairSide[] sides = {p.getChosenSide(), p.getRejectedSide()};
            for (int k = 0; k < 2; k++) {
                PairSide side = sides[k];
                BufferedImage image = PairBuilder.decode(Path.of(side.getImagePath()));
                Integer idx = imageIndex.get(side.getImagePath());
                if (idx == null) {
                    idx = images.size();
                    imageIndex.put(side.getImagePath(), idx);
                    images.add(ImageEncoder.pixels(List.of(image), GeneratorJob.preprocessing(imageSize)));
                }
                GenerationInput input = new GenerationInput(image, side.getPrompt());
                String id = p.getPairId() + (k == 0 ? "/chosen" : "/rejected");
                seq[k] = new GeneratorTrainer.Sequence(id, runtime.inputIds(input, side.getAnswer()),
                        runtime.inputIds(input, "").length - 1, idx);
                ref[k] = runtime.logProb(input, side.getAnswer());
                inputs.put(id, input);
                answers.put(id, side.getAnswer());
            }
            out.add(new DpoTrainer.Pair(p.getPairId(), seq[0], seq[1], ref[0], ref[1]));
        }
        return new Laid(out, images, inputs, answers);
    }

    /** Largest difference between the exported model's logits and the trained network's (fails the job above the generator job's tolerance). */
    static double parity(OnnxGenerator exported, Laid laid, List<GeneratorTrainer.Sequence> parity, List<float[][]> trained) {
        double max = 0;
        for (int i = 0; i < parity.size(); i++) {
            String id = parity.get(i).id();
            float[][] onnx = exported.logits(laid.inputs.get(id), laid.answers.get(id));
            float[][] djl = trained.get(i);
            if (onnx.length != djl.length) {
                throw new IllegalStateException(id + ": the runtime lays out " + onnx.length + " tokens, training had " + djl.length);
            }
            for (int t = 0; t < onnx.length; t++) {
                for (int v = 0; v < onnx[t].length; v++) {
                    max = Math.max(max, Math.abs(onnx[t][v] - djl[t][v]));
                }
            }
        }
        if (!(max <= GeneratorJob.PARITY_TOLERANCE)) {
            throw new IllegalStateException("exported ONNX logits differ from the trained network's by " + max);
        }
        return max;
    }

    /** Greedy decoding with the KV cache gives the tokens of recomputing the whole sequence; returns how many were checked. */
    static int cachedParity(OnnxGenerator exported, Laid laid, List<GeneratorTrainer.Sequence> parity, int budget) {
        for (GeneratorTrainer.Sequence q : parity) {
            GenerationInput input = laid.inputs.get(q.id());
            int[] cached = exported.generate(input, DecodingOptions.greedy(budget), null).tokenIds();
            int[] full = exported.generateWithoutCache(input, DecodingOptions.greedy(budget)).tokenIds();
            if (!Arrays.equals(cached, full)) {
                throw new IllegalStateException(q.id() + ": decoding with the KV cache gave " + Arrays.toString(cached)
                        + ", recomputing the whole sequence " + Arrays.toString(full));
            }
        }
        return parity.size();
    }

    /**
     * The held-out figures on the closed questions: accuracy with the example's own evidence; accuracy
     * with {@value #NOISE_DOCUMENTS} documents of an unrelated example put before its own (fitting
     * then drops its own lowest-ranked evidence first); and the drop in accuracy when the image is
     * replaced by the least similar image of the same set.
     */
    public static Figures evaluate(Generator g, List<Labelled> eval, Map<Path, Path> mismatched, int budget) {
        List<Example> closed = eval.stream().map(Labelled::example).filter(e -> e.task().equals("closed_vqa")).toList();
        // a question whose bare prompt does not fit is refused by serving too: left out
        closed = closed.stream().filter(e -> fits(g, e, budget)).toList();
        int n = closed.size();
        if (n == 0) {
            throw new IllegalArgumentException("the held-out examples hold no closed question that fits the context");
        }
        int right = 0;
        int noisyRight = 0;
        int mismatchedRight = 0;
        int mismatchedN = 0;
        int rightOnMismatchedSet = 0;
        for (int i = 0; i < n; i++) {
            Example e = closed.get(i);
            BufferedImage image = PairBuilder.decode(e.image());
            boolean ok = answer(g, e, image, e.documents(), budget);
            right += ok ? 1 : 0;
            Example unrelated = closed.get((i + n / 2 + 1) % n);
            List<String> noisy = new ArrayList<>(unrelated.documents().subList(0, Math.min(NOISE_DOCUMENTS, unrelated.documents().size())));
            noisy.addAll(e.documents());
            noisyRight += answer(g, e, image, noisy, budget) ? 1 : 0;
            Path other = mismatched.get(e.image());
            if (other != null) {
                mismatchedN++;
                rightOnMismatchedSet += ok ? 1 : 0;
                mismatchedRight += answer(g, e, PairBuilder.decode(other), e.documents(), budget) ? 1 : 0;
            }
        }
        double drop = mismatchedN == 0 ? 0 : (double) (rightOnMismatchedSet - mismatchedRight) / mismatchedN;
        return new Figures((double) right / n, (double) noisyRight / n, drop, n);
    }

    private static boolean fits(Generator g, Example e, int budget) {
        BufferedImage image = PairBuilder.decode(e.image());
        int room = g.contextLength() - g.overheadTokens(new GenerationInput(image, "")) - budget;
        return g.countTokens(new RagPrompt(e.task(), e.question(), e.choices(), List.of(), List.of()).render()) <= room;
    }

    private static boolean answer(Generator g, Example e, BufferedImage image, List<String> documents, int budget) {
        RagPrompt prompt = new RagPrompt(e.task(), e.question(), e.choices(), documents, e.reports());
        int room = g.contextLength() - g.overheadTokens(new GenerationInput(image, "")) - budget;
        String text = prompt.fit(g::countTokens, room).text();
        String a = g.generate(new GenerationInput(image, text), DecodingOptions.greedy(budget).withChoices(e.closedChoices()), null).text();
        return VqaScoring.exact(a, e.answer());
    }
}

package io.heterorag.tuning.training;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
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
import io.heterorag.model.evaluation.TextMetrics;
import io.heterorag.model.evaluation.VqaScoring;
import io.heterorag.model.generation.DecodingOptions;
import io.heterorag.model.generation.GenerationInput;
import io.heterorag.model.generation.Generator;
import io.heterorag.model.generation.OnnxGenerator;
import io.heterorag.model.generation.VlmConfig;
import io.heterorag.model.generation.VlmOnnxExport;
import io.heterorag.model.generation.WordPieceVocabulary;
import io.heterorag.model.image.ImageDecoder;
import io.heterorag.model.image.ImageEncoder;
import io.heterorag.proto.v1.ImagePreprocessing;
import io.heterorag.proto.v1.ModelBundleManifest;
import io.heterorag.tuning.training.GeneratorExamples.Example;

/**
 * One generator job: read the examples, build the WordPiece vocabulary from the training texts, lay
 * each example out as the runtime lays out a request, train the platform's VLM, export it as a
 * bundle, check the exported ONNX against the trained network, and evaluate it on the eval examples.
 */
public final class GeneratorJob {

    /** Largest difference allowed between a logit of the exported ONNX model and the trained network's. */
    static final double PARITY_TOLERANCE = 1e-4;

    /** Most tokenizer entries (specials and characters included). */
    static final int VOCABULARY_SIZE = 4096;

    /** Channels of the vision tower's last conv block (docs/generator.md default). */
    static final int VISION_CHANNELS = 128;

    /** The architecture and data choices of a job, beside the optimiser's {@link GeneratorTrainer.Config}. */
    public record Settings(GeneratorTrainer.Config training, int hidden, int layers, int heads, int context, int imageSize,
            int maxExamples) {
    }

    /** What a finished job produced. */
    public record Outcome(Path bundle, String modelId, Map<String, Double> metrics) {
    }

    private GeneratorJob() {
    }

    public static Outcome run(Path trainFile, Path evalFile, Settings s, Path bundleDir, String name, String version,
            Map<String, String> parameters, Consumer<String> progress) {
        progress.accept("loading " + trainFile);
        List<Example> train = GeneratorExamples.read(trainFile, s.maxExamples());
        List<Example> eval = GeneratorExamples.read(evalFile, s.maxExamples());
        String tokenizerJson = WordPieceVocabulary.tokenizerJson(texts(train), VOCABULARY_SIZE);
        int vocab = WordPieceVocabulary.vocabularySize(tokenizerJson);
        ExecutionProviders.Choice cpu = ExecutionProviders.choose("cpu", 0);
        // the runtime lays the sequences out (one definition of a request's ids): it reads an
        // untrained bundle of the same shape and tokenizer, written beside the real one (hidden, so
        // nothing that lists trained bundles picks it up) and removed
        Path layoutDir = bundleDir.resolveSibling("." + bundleDir.getFileName() + ".layout");
        try {
            VlmConfig provisional = config(vocab, s, 1);
            VlmOnnxExport.write(layoutDir, provisional, VlmOnnxExport.randomWeights(provisional, s.training().seed()), tokenizerJson);
            Layout layout;
            GeneratorTrainer.Data data;
            int answerBudget;
            try (OnnxGenerator runtime = OnnxGenerator.load(layoutDir, cpu)) {
                answerBudget = answerBudget(train, runtime, s.context());
                progress.accept("tokenising " + train.size() + " examples (vocabulary " + vocab + ", answer budget " + answerBudget + ")");
                layout = new Layout(runtime, answerBudget, s.imageSize());
                data = layout.data(train);
                if ("false".equals(parameters.get("copy_loss"))) { // mqg parameter: train with the plain loss only
                    data = new GeneratorTrainer.Data(data.sequences(), data.images(), false);
                }
            }
            deleteTree(layoutDir);
            VlmConfig cfg = config(vocab, s, answerBudget);
            GeneratorNetwork.Dims dims = new GeneratorNetwork.Dims(vocab, s.hidden(), s.layers(), s.heads(), s.context(),
                    s.imageSize(), VISION_CHANNELS);
            checkNames(new GeneratorNetwork(dims).shapes(), VlmOnnxExport.shapes(cfg));

            progress.accept("training on " + data.sequences().size() + " sequences, evaluating on " + eval.size());
            GeneratorTrainer.Trained trained = GeneratorTrainer.train(data, layout.paritySequences(data), dims, s.training(),
                    progress);
            VlmOnnxExport.write(bundleDir, cfg, trained.weights(), tokenizerJson);

            Map<String, Double> metrics = new LinkedHashMap<>();
            metrics.put("first_epoch_loss", (double) trained.epochLosses().get(0));
            metrics.put("final_loss", (double) trained.epochLosses().get(trained.epochLosses().size() - 1));
            metrics.put("ms_per_batch", trained.msPerBatch());
            metrics.put("train_sequences", (double) data.sequences().size());
            metrics.put("truncated_answers", (double) layout.truncated);
            metrics.put("skipped_too_long", (double) layout.skipped);
            try (OnnxGenerator exported = OnnxGenerator.load(bundleDir, cpu)) {
                progress.accept("checking the exported model against the trained one");
                metrics.put("parity_max_abs_diff", logitParity(exported, layout, trained));
                metrics.put("parity_cached_decoding", (double) cachedDecodingParity(exported, layout, trained, answerBudget));
                progress.accept("evaluating on " + eval.size() + " examples");
                metrics.putAll(evaluate(exported, eval, answerBudget));
            }

            // bundle.json last: a directory with it is a checked, evaluated generator
            Map<String, String> training = new LinkedHashMap<>(parameters);
            training.put("train_examples", String.valueOf(train.size()));
            training.put("train_sequences", String.valueOf(data.sequences().size()));
            training.put("eval_examples", String.valueOf(eval.size()));
            training.put("vocabulary", String.valueOf(vocab));
            training.put("answer_budget", String.valueOf(answerBudget));
            training.put("loss", "cross-entropy on response tokens and eos, teacher forcing");
            ModelBundles.write(bundleDir, ModelBundleManifest.newBuilder().setName(name).setVersion(version).setKind("generator")
                    .putAllTraining(training).putAllMetrics(metrics).build());
            return new Outcome(bundleDir, name + "@" + version, metrics);
        } finally {
            cpu.options().close();
            deleteTree(layoutDir);
        }
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (var files = Files.walk(dir)) {
            for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + dir, e);
        }
    }

    static VlmConfig config(int vocab, Settings s, int maxNewTokens) {
        return VlmConfig.llava(vocab, s.hidden(), s.layers(), s.heads(), s.context(), s.imageSize(), VISION_CHANNELS, maxNewTokens);
    }

    /** Every text the tokenizer must cover: the full prompts (with all evidence) and the answers. */
    static List<String> texts(List<Example> examples) {
        List<String> texts = new ArrayList<>();
        for (Example e : examples) {
            texts.add(e.prompt().render());
            texts.add(e.answer());
        }
        return texts;
    }

    /**
     * max_new_tokens of the bundle: the longest training answer plus its eos, at most a quarter of
     * the context. Training fits prompts to the same budget serving does, so both see the same text.
     */
    static int answerBudget(List<Example> train, OnnxGenerator runtime, int context) {
        int longest = 0;
        for (Example e : train) {
            longest = Math.max(longest, runtime.countTokens(e.answer()));
        }
        return Math.max(2, Math.min(context / 4, longest + 1));
    }

    private static void checkNames(Map<String, long[]> network, Map<String, long[]> contract) {
        if (!network.keySet().equals(contract.keySet())) {
            throw new IllegalStateException("the network's parameters " + network.keySet() + " are not the contract's "
                    + contract.keySet());
        }
        contract.forEach((n, shape) -> {
            if (!Arrays.equals(shape, network.get(n))) {
                throw new IllegalStateException(n + " has shape " + Arrays.toString(network.get(n)) + ", the contract says "
                        + Arrays.toString(shape));
            }
        });
    }

    /** The prompt text of an example as serving builds it: fitted to context − overhead − answer budget. */
    static String fittedPrompt(Generator g, Example e, BufferedImage image, int answerBudget) {
        int budget = g.contextLength() - g.overheadTokens(new GenerationInput(image, "")) - answerBudget;
        return e.prompt().fit(g::countTokens, budget).text();
    }

    /**
     * Lays examples out with the runtime's {@link OnnxGenerator#inputIds}: [bos] + image tokens +
     * the prompt fitted as serving fits it + the answer + eos. An answer longer than the budget is
     * cut to budget − 1 tokens before its eos; an example whose bare prompt does not fit is skipped
     * (serving refuses it).
     */
    static final class Layout {
        private final OnnxGenerator runtime;
        private final int answerBudget;
        private final ImagePreprocessing prep;
        /** Per sequence id: what the runtime needs to recompute it (kept for the parity checks). */
        private final Map<String, GenerationInput> inputs = new HashMap<>();
        private final Map<String, String> answers = new HashMap<>();
        int skipped;
        int truncated;

        Layout(OnnxGenerator runtime, int answerBudget, int imageSize) {
            this.runtime = runtime;
            this.answerBudget = answerBudget;
            this.prep = preprocessing(imageSize);
        }

        GeneratorTrainer.Data data(List<Example> examples) {
            List<GeneratorTrainer.Sequence> seqs = new ArrayList<>();
            List<float[]> images = new ArrayList<>();
            Map<Path, Integer> imageIndex = new HashMap<>();
            Map<Path, BufferedImage> decoded = new HashMap<>();
            for (Example e : examples) {
                BufferedImage image = decoded.computeIfAbsent(e.image(), GeneratorJob::decode);
                GenerationInput input = new GenerationInput(image, fittedPrompt(runtime, e, image, answerBudget));
                int promptLength = runtime.inputIds(input, "").length - 1;
                if (promptLength > runtime.contextLength() - answerBudget) {
                    skipped++;
                    continue;
                }
                int[] ids = runtime.inputIds(input, e.answer());
                if (ids.length - promptLength > answerBudget) {
                    int eos = ids[ids.length - 1];
                    ids = Arrays.copyOf(ids, promptLength + answerBudget);
                    ids[ids.length - 1] = eos;
                    truncated++;
                } else {
                    inputs.put(e.id(), input);
                    answers.put(e.id(), e.answer());
                }
                Integer idx = imageIndex.get(e.image());
                if (idx == null) {
                    idx = images.size();
                    imageIndex.put(e.image(), idx);
                    images.add(ImageEncoder.pixels(List.of(image), prep));
                }
                seqs.add(new GeneratorTrainer.Sequence(e.id(), ids, promptLength, idx));
            }
            if (seqs.isEmpty()) {
                throw new IllegalArgumentException("no example's prompt fits the context of " + runtime.contextLength() + " tokens");
            }
            // the MQG is decoded copying the prompt's words (TaggedQueryGrammar.copying): train it to choose among them too
            boolean copy = examples.stream().allMatch(e -> e.task().equals("query_generation"));
            return new GeneratorTrainer.Data(seqs, images, copy);
        }

        /** The first few sequences whose answer was not cut: the runtime can rebuild them from input and answer. */
        List<GeneratorTrainer.Sequence> paritySequences(GeneratorTrainer.Data data) {
            return data.sequences().stream().filter(q -> inputs.containsKey(q.id())).limit(GeneratorTrainer.PARITY_SAMPLES).toList();
        }
    }

    /** Largest difference between the exported model's logits (ONNX Runtime, full pass) and the trained network's. */
    static double logitParity(OnnxGenerator exported, Layout layout, GeneratorTrainer.Trained trained) {
        double max = 0;
        for (int i = 0; i < trained.paritySequences().size(); i++) {
            GeneratorTrainer.Sequence q = trained.paritySequences().get(i);
            float[][] onnx = exported.logits(layout.inputs.get(q.id()), layout.answers.get(q.id()));
            float[][] djl = trained.parityLogits().get(i);
            if (onnx.length != djl.length) {
                throw new IllegalStateException("sequence " + q.id() + ": the runtime lays out " + onnx.length
                        + " tokens, training had " + djl.length);
            }
            for (int t = 0; t < onnx.length; t++) {
                for (int v = 0; v < onnx[t].length; v++) {
                    max = Math.max(max, Math.abs(onnx[t][v] - djl[t][v]));
                }
            }
        }
        if (!(max <= PARITY_TOLERANCE)) {
            throw new IllegalStateException("exported ONNX logits differ from the trained network's by " + max);
        }
        return max;
    }

    /** Greedy decoding with the KV cache must give the same tokens as recomputing the whole sequence; returns the count. */
    static int cachedDecodingParity(OnnxGenerator exported, Layout layout, GeneratorTrainer.Trained trained, int answerBudget) {
        int checked = 0;
        for (GeneratorTrainer.Sequence q : trained.paritySequences()) {
            GenerationInput input = layout.inputs.get(q.id());
            DecodingOptions greedy = DecodingOptions.greedy(answerBudget);
            int[] cached = exported.generate(input, greedy, null).tokenIds();
            int[] full = exported.generateWithoutCache(input, greedy).tokenIds();
            if (!Arrays.equals(cached, full)) {
                throw new IllegalStateException("sequence " + q.id() + ": decoding with the KV cache gave " + Arrays.toString(cached)
                        + ", recomputing the whole sequence " + Arrays.toString(full));
            }
            checked++;
        }
        return checked;
    }

    /**
     * The exported model on the eval examples, greedy: closed questions constrained to their choices
     * (accuracy), open questions (exact match and token recall), report generation (corpus BLEU-4,
     * mean ROUGE-L). A figure is present only when its task is.
     */
    static Map<String, Double> evaluate(OnnxGenerator g, List<Example> eval, int answerBudget) {
        int skipped = 0;
        int closed = 0;
        int closedRight = 0;
        int open = 0;
        int openExact = 0;
        double openRecall = 0;
        List<String> reports = new ArrayList<>();
        List<String> references = new ArrayList<>();
        Map<Path, BufferedImage> decoded = new HashMap<>();
        for (Example e : eval) {
            BufferedImage image = decoded.computeIfAbsent(e.image(), GeneratorJob::decode);
            GenerationInput input = new GenerationInput(image, fittedPrompt(g, e, image, answerBudget));
            if (g.inputIds(input, "").length - 1 > g.contextLength() - answerBudget) {
                skipped++; // serving refuses it too
                continue;
            }
            DecodingOptions greedy = DecodingOptions.greedy(answerBudget);
            switch (e.task()) {
                case "closed_vqa" -> {
                    String answer = g.generate(input, greedy.withChoices(e.closedChoices()), null).text();
                    closed++;
                    closedRight += VqaScoring.exact(answer, e.answer()) ? 1 : 0;
                }
                case "open_vqa" -> {
                    String answer = g.generate(input, greedy, null).text();
                    open++;
                    openExact += VqaScoring.exact(answer, e.answer()) ? 1 : 0;
                    openRecall += VqaScoring.recall(answer, e.answer());
                }
                default -> {
                    reports.add(g.generate(input, greedy, null).text());
                    references.add(e.answer());
                }
            }
        }
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("eval_skipped_too_long", (double) skipped);
        if (closed > 0) {
            m.put("closed_accuracy", (double) closedRight / closed);
            m.put("closed_n", (double) closed);
        }
        if (open > 0) {
            m.put("open_exact", (double) openExact / open);
            m.put("open_recall", openRecall / open);
            m.put("open_n", (double) open);
        }
        if (!reports.isEmpty()) {
            m.put("report_bleu4", TextMetrics.bleu(reports, references, 4));
            m.put("report_rouge_l", TextMetrics.rougeL(reports, references));
            m.put("report_n", (double) reports.size());
        }
        return m;
    }

    static BufferedImage decode(Path image) {
        try {
            return ImageDecoder.decode(Files.readAllBytes(image), "");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read image " + image, e);
        }
    }

    /** preprocessor_config.json of the platform's VLM: squash to S×S, RGB, /255, (x − 0.5) / 0.25. */
    public static ImagePreprocessing preprocessing(int imageSize) {
        return ImagePreprocessing.newBuilder().setSize(imageSize).setResize("squash").setChannels(3)
                .addAllMean(List.of(0.5f, 0.5f, 0.5f)).addAllStd(List.of(0.25f, 0.25f, 0.25f)).build();
    }
}

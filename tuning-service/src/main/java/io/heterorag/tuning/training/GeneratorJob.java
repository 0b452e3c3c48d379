package io.heterorag.tuning.training;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.heterorag.model.bundle.ModelBundles;
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
        try (HuggingFaceTokenizer tokenizer = tokenizer(tokenizerJson, bundleDir)) {
            int vocab = vocabularySize(tokenizerJson);
            int answerBudget = answerBudget(train, tokenizer, s.context());
            VlmConfig cfg = VlmConfig.llava(vocab, s.hidden(), s.layers(), s.heads(), s.context(), s.imageSize(), VISION_CHANNELS,
                    answerBudget);
            GeneratorNetwork.Dims dims = new GeneratorNetwork.Dims(vocab, s.hidden(), s.layers(), s.heads(), s.context(),
                    s.imageSize(), VISION_CHANNELS);
            progress.accept("tokenising " + train.size() + " examples (vocabulary " + vocab + ")");
            Layout layout = new Layout(tokenizer, cfg);
            GeneratorTrainer.Data data = layout.data(train);

            progress.accept("training on " + data.sequences().size() + " sequences, evaluating on " + eval.size());
            GeneratorTrainer.Trained trained = GeneratorTrainer.train(data, dims, s.training(), progress);
            checkNames(trained.shapes(), VlmOnnxExport.shapes(cfg));

            VlmOnnxExport.write(bundleDir, cfg, trained.weights(), tokenizerJson);
            Map<String, String> training = new LinkedHashMap<>(parameters);
            training.put("train_examples", String.valueOf(train.size()));
            training.put("train_sequences", String.valueOf(data.sequences().size()));
            training.put("eval_examples", String.valueOf(eval.size()));
            training.put("vocabulary", String.valueOf(vocab));
            training.put("answer_budget", String.valueOf(answerBudget));
            training.put("loss", "cross-entropy on response tokens and eos, teacher forcing");
            training.put("ms_per_batch", String.format("%.1f", trained.msPerBatch()));
            ModelBundles.write(bundleDir, ModelBundleManifest.newBuilder().setName(name).setVersion(version).setKind("generator")
                    .putAllTraining(training).build());

            Map<String, Double> metrics = new LinkedHashMap<>();
            progress.accept("checking the exported model against the trained one");
            double diff = logitParity(bundleDir, cfg, trained, data.images());
            if (!(diff <= PARITY_TOLERANCE)) {
                throw new IllegalStateException("exported ONNX logits differ from the trained network's by " + diff);
            }
            metrics.put("parity_max_abs_diff", diff);
            metrics.put("first_epoch_loss", (double) trained.epochLosses().get(0));
            metrics.put("final_loss", (double) trained.epochLosses().get(trained.epochLosses().size() - 1));
            metrics.put("ms_per_batch", trained.msPerBatch());
            metrics.put("train_sequences", (double) data.sequences().size());
            metrics.put("skipped_too_long", (double) layout.skipped);
            ModelBundles.write(bundleDir, ModelBundles.read(bundleDir).toBuilder().putAllMetrics(metrics).build());
            return new Outcome(bundleDir, name + "@" + version, metrics);
        }
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

    private static HuggingFaceTokenizer tokenizer(String json, Path bundleDir) {
        try {
            Files.createDirectories(bundleDir);
            Path file = bundleDir.resolve("tokenizer.json");
            Files.writeString(file, json);
            return HuggingFaceTokenizer.newInstance(file, Map.of("addSpecialTokens", "false", "truncation", "false",
                    "padding", "false"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the tokenizer to " + bundleDir, e);
        }
    }

    private static int vocabularySize(String json) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(json).path("model").path("vocab").size();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * max_new_tokens of the bundle: the longest training answer plus its eos, at most a quarter of
     * the context. Training fits prompts to the same budget serving does, so both see the same text.
     */
    static int answerBudget(List<Example> train, HuggingFaceTokenizer tokenizer, int context) {
        int longest = 0;
        for (Example e : train) {
            longest = Math.max(longest, tokenizer.encode(e.answer()).getIds().length);
        }
        return Math.max(1, Math.min(context / 4, longest + 1));
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

    /**
     * Lays examples out as the runtime lays out a request: [bos] + image tokens + the prompt fitted
     * to context − bos − image tokens − answer budget, then the answer (cut to the budget's room
     * before eos) and eos. An example whose bare prompt does not fit is skipped (serving refuses it).
     */
    static final class Layout {
        private final HuggingFaceTokenizer tokenizer;
        private final VlmConfig cfg;
        private final ImagePreprocessing prep;
        int skipped;

        Layout(HuggingFaceTokenizer tokenizer, VlmConfig cfg) {
            this.tokenizer = tokenizer;
            this.cfg = cfg;
            this.prep = preprocessing(cfg.imageSize());
        }

        int[] tokens(String text) {
            return Arrays.stream(tokenizer.encode(text).getIds()).mapToInt(Math::toIntExact).toArray();
        }

        GeneratorTrainer.Data data(List<Example> examples) {
            List<GeneratorTrainer.Sequence> seqs = new ArrayList<>();
            List<float[]> images = new ArrayList<>();
            Map<Path, Integer> imageIndex = new HashMap<>();
            for (Example e : examples) {
                GeneratorTrainer.Sequence seq = sequence(e, -1);
                if (seq == null) {
                    skipped++;
                    continue;
                }
                Integer idx = imageIndex.get(e.image());
                if (idx == null) {
                    idx = images.size();
                    imageIndex.put(e.image(), idx);
                    images.add(pixels(e.image(), prep));
                }
                seqs.add(new GeneratorTrainer.Sequence(seq.id(), seq.ids(), seq.responseStart(), idx));
            }
            if (seqs.isEmpty()) {
                throw new IllegalArgumentException("no example's prompt fits the context of " + cfg.context() + " tokens");
            }
            return new GeneratorTrainer.Data(seqs, images);
        }

        GeneratorTrainer.Sequence sequence(Example e, int image) {
            int overhead = 1 + cfg.imageTokens();
            int budget = cfg.context() - overhead - cfg.maxNewTokens();
            int[] prompt = tokens(e.prompt().fit(t -> tokens(t).length, budget).text());
            if (prompt.length > budget) {
                return null;
            }
            int[] answer = tokens(e.answer());
            answer = Arrays.copyOf(answer, Math.min(answer.length, cfg.maxNewTokens() - 1));
            int[] ids = new int[overhead + prompt.length + answer.length + 1];
            ids[0] = cfg.bosTokenId();
            Arrays.fill(ids, 1, overhead, cfg.imageTokenId());
            System.arraycopy(prompt, 0, ids, overhead, prompt.length);
            System.arraycopy(answer, 0, ids, overhead + prompt.length, answer.length);
            ids[ids.length - 1] = cfg.eosTokenId();
            return new GeneratorTrainer.Sequence(e.id(), ids, overhead + prompt.length, image);
        }
    }

    /** preprocessor_config.json of the platform's VLM: squash to S×S, RGB, /255, (x − 0.5) / 0.25. */
    static ImagePreprocessing preprocessing(int imageSize) {
        return ImagePreprocessing.newBuilder().setSize(imageSize).setResize("squash").setChannels(3)
                .addAllMean(List.of(0.5f, 0.5f, 0.5f)).addAllStd(List.of(0.25f, 0.25f, 0.25f)).build();
    }

    static float[] pixels(Path image, ImagePreprocessing prep) {
        try {
            return ImageEncoder.pixels(List.of(ImageDecoder.decode(Files.readAllBytes(image), "")), prep);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read image " + image, e);
        }
    }

    /**
     * Runs the exported graphs in ONNX Runtime on the parity sequences (vision encoder, embedding,
     * image rows replaced, decoder with an empty past) and returns the largest logit difference.
     */
    static double logitParity(Path bundle, VlmConfig cfg, GeneratorTrainer.Trained trained, List<float[]> images) {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        int s = cfg.imageSize();
        int h = cfg.hidden();
        int n = cfg.imageTokens();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
                OrtSession vision = env.createSession(bundle.resolve(VlmOnnxExport.VISION_ENCODER).toString(), opts);
                OrtSession embed = env.createSession(bundle.resolve(VlmOnnxExport.EMBED_TOKENS).toString(), opts);
                OrtSession decoder = env.createSession(bundle.resolve(VlmOnnxExport.DECODER).toString(), opts)) {
            double max = 0;
            for (int i = 0; i < trained.paritySequences().size(); i++) {
                GeneratorTrainer.Sequence seq = trained.paritySequences().get(i);
                int t = seq.ids().length;
                float[] features;
                try (OnnxTensor px = OnnxTensor.createTensor(env, FloatBuffer.wrap(images.get(seq.image())), new long[] {1, 3, s, s});
                        OrtSession.Result r = vision.run(Map.of("pixel_values", px))) {
                    features = flat(((float[][][]) r.get(0).getValue())[0]);
                }
                float[] embeds;
                long[] ids = Arrays.stream(seq.ids()).asLongStream().toArray();
                try (OnnxTensor in = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {1, t});
                        OrtSession.Result r = embed.run(Map.of("input_ids", in))) {
                    embeds = flat(((float[][][]) r.get(0).getValue())[0]);
                }
                System.arraycopy(features, 0, embeds, h, n * h);
                long[] positions = new long[t];
                long[] mask = new long[t];
                for (int j = 0; j < t; j++) {
                    positions[j] = j;
                    mask[j] = 1;
                }
                Map<String, OnnxTensor> inputs = new HashMap<>();
                try {
                    inputs.put("inputs_embeds", OnnxTensor.createTensor(env, FloatBuffer.wrap(embeds), new long[] {1, t, h}));
                    inputs.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(mask), new long[] {1, t}));
                    inputs.put("position_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(positions), new long[] {1, t}));
                    for (int l = 0; l < cfg.layers(); l++) {
                        for (String kv : new String[] {"key", "value"}) {
                            inputs.put("past_key_values." + l + "." + kv, OnnxTensor.createTensor(env, FloatBuffer.allocate(0),
                                    new long[] {1, cfg.heads(), 0, cfg.headDim()}));
                        }
                    }
                    try (OrtSession.Result r = decoder.run(inputs)) {
                        float[][] onnx = ((float[][][]) r.get("logits").orElseThrow().getValue())[0];
                        float[][] djl = trained.parityLogits().get(i);
                        for (int j = 0; j < t; j++) {
                            for (int v = 0; v < cfg.vocabSize(); v++) {
                                max = Math.max(max, Math.abs(onnx[j][v] - djl[j][v]));
                            }
                        }
                    }
                } finally {
                    inputs.values().forEach(OnnxTensor::close);
                }
            }
            return max;
        } catch (OrtException e) {
            throw new IllegalStateException("the exported bundle " + bundle + " does not run: " + e.getMessage(), e);
        }
    }

    private static float[] flat(float[][] rows) {
        float[] out = new float[rows.length * rows[0].length];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, out, i * rows[0].length, rows[0].length);
        }
        return out;
    }
}

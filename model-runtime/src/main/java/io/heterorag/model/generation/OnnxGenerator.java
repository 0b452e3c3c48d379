package io.heterorag.model.generation;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.function.Consumer;
import java.util.logging.Logger;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.google.gson.JsonObject;
import io.heterorag.model.bundle.ExecutionProviders;
import io.heterorag.model.bundle.ModelBundles;
import io.heterorag.proto.v1.ModelBundleManifest;

/**
 * Serves a generator bundle in the Hugging Face VLM layout (docs/generator.md) on ONNX Runtime:
 * vision_encoder.onnx + embed_tokens.onnx + decoder_model_merged.onnx with a KV cache, a family
 * adapter (llava or qwen2_vl) for the image tokens and positions, and a scheduler thread that
 * decodes concurrent requests together.
 */
public final class OnnxGenerator implements Generator {

    private static final Logger LOG = Logger.getLogger(OnnxGenerator.class.getName());

    public static final List<String> FAMILIES = List.of("llava", "qwen2_vl");
    static final List<String> REQUIRED_FILES = List.of("config.json", "generation_config.json", "preprocessor_config.json",
            "tokenizer.json", "vision_encoder.onnx", "embed_tokens.onnx", "decoder_model_merged.onnx");

    /**
     * For the service's gauges: requests waiting to join, sequences decoding, tokens taken so far
     * (eos included) and batched decoder calls so far (generatedTokens / decoderCalls is the mean batch).
     */
    public record Stats(int waiting, int decoding, long generatedTokens, long decoderCalls) {
    }

    /** How concurrent requests are batched: at most maxBatch sequences; an idle scheduler waits admissionWindow for companions. */
    public record Batching(int maxBatch, Duration admissionWindow) {
        public static final Batching DEFAULT = new Batching(8, Duration.ofMillis(2));
    }

    private final String id;
    private final FamilyAdapter adapter;
    private final DecoderSession decoder;
    private final HuggingFaceTokenizer tokenizer;
    private final int context;
    private final int[] eos;
    private final int defaultMaxNewTokens;
    private final String prefix;
    private final String suffix;
    private final DecodeScheduler scheduler;
    private final Path tokenizerFile;
    private volatile TokenVocabulary vocabulary;

    private OnnxGenerator(String id, FamilyAdapter adapter, DecoderSession decoder, HuggingFaceTokenizer tokenizer, int context,
            int[] eos, int defaultMaxNewTokens, String prefix, String suffix, Batching batching, Path tokenizerFile) {
        this.tokenizerFile = tokenizerFile;
        this.id = id;
        this.adapter = adapter;
        this.decoder = decoder;
        this.tokenizer = tokenizer;
        this.context = context;
        this.eos = eos;
        this.defaultMaxNewTokens = defaultMaxNewTokens;
        this.prefix = prefix;
        this.suffix = suffix;
        this.scheduler = new DecodeScheduler(id, decoder, batching.maxBatch(), batching.admissionWindow().toNanos());
    }

    public static OnnxGenerator load(Path dir, ExecutionProviders.Choice provider) {
        return load(dir, provider, Batching.DEFAULT);
    }

    /** Loads and checks a bundle; the provider's options are used for the sessions (the caller closes them). */
    public static OnnxGenerator load(Path dir, ExecutionProviders.Choice provider, Batching batching) {
        String where = "generator bundle " + dir;
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(where + " is not a directory");
        }
        for (String f : REQUIRED_FILES) {
            if (!Files.isRegularFile(dir.resolve(f))) {
                throw new IllegalArgumentException(where + " has no " + f + " (a generator bundle needs " + String.join(", ", REQUIRED_FILES) + ")");
            }
        }
        JsonObject config = BundleJson.read(dir, "config.json");
        String family = BundleJson.has(config, "model_type") ? config.get("model_type").getAsString() : null;
        if (!FAMILIES.contains(family)) {
            throw new IllegalArgumentException(where + ": config.json model_type " + (family == null ? "is missing" : "'" + family + "' is not supported")
                    + "; supported families: " + String.join(", ", FAMILIES));
        }
        JsonObject text = BundleJson.has(config, "text_config") ? config.getAsJsonObject("text_config") : config;
        JsonObject gen = BundleJson.read(dir, "generation_config.json");
        JsonObject pre = BundleJson.read(dir, "preprocessor_config.json");
        int[] eos = BundleJson.ints(gen, "eos_token_id");
        if (eos.length == 0) {
            eos = BundleJson.ints(text, "eos_token_id").length > 0 ? BundleJson.ints(text, "eos_token_id") : BundleJson.ints(config, "eos_token_id");
        }
        if (eos.length == 0) {
            throw new IllegalArgumentException(where + ": generation_config.json has no eos_token_id");
        }
        int bos = BundleJson.integer(gen, "bos_token_id", -1);
        int context = intOf(text, config, "max_position_embeddings", where);
        String prefix = "";
        String suffix = "";
        if (Files.isRegularFile(dir.resolve("prompt_template.json"))) {
            JsonObject t = BundleJson.read(dir, "prompt_template.json");
            prefix = BundleJson.has(t, "prefix") ? t.get("prefix").getAsString() : "";
            suffix = BundleJson.has(t, "suffix") ? t.get("suffix").getAsString() : "";
        }
        String id = ModelBundles.exists(dir) ? manifestId(dir) : dir.getFileName().toString();

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            OrtSession vision = session(env, dir, "vision_encoder.onnx", provider, opened);
            OrtSession embed = session(env, dir, "embed_tokens.onnx", provider, opened);
            OrtSession dec = session(env, dir, "decoder_model_merged.onnx", provider, opened);
            requireNames(vision.getInputNames(), family.equals("qwen2_vl") ? List.of("pixel_values", "image_grid_thw") : List.of("pixel_values"),
                    "vision_encoder.onnx", "input", where);
            requireNames(vision.getOutputNames(), List.of("image_features"), "vision_encoder.onnx", "output", where);
            requireNames(embed.getInputNames(), List.of("input_ids"), "embed_tokens.onnx", "input", where);
            requireNames(embed.getOutputNames(), List.of("inputs_embeds"), "embed_tokens.onnx", "output", where);

            Map<String, NodeInfo> inputs = dec.getInputInfo();
            int layers = BundleJson.has(text, "num_hidden_layers") ? text.get("num_hidden_layers").getAsInt()
                    : (int) inputs.keySet().stream().filter(n -> n.matches("past_key_values\\.\\d+\\.key")).count();
            requireNames(inputs.keySet(), DecoderSession.requiredInputs(layers), "decoder_model_merged.onnx", "input", where);
            requireNames(dec.getOutputNames(), DecoderSession.requiredOutputs(layers), "decoder_model_merged.onnx", "output", where);
            int axes = family.equals("qwen2_vl") ? 3 : 1;
            long[] posShape = shape(inputs.get("position_ids"));
            int rank = axes == 1 ? 2 : 3;
            if (posShape.length != rank) {
                throw new IllegalArgumentException(where + ": decoder_model_merged.onnx position_ids has rank " + posShape.length + ", "
                        + family + " needs " + rank + (axes == 3 ? " ([3, batch, sequence])" : " ([batch, sequence])"));
            }
            for (String name : List.of("inputs_embeds", "past_key_values.0.key")) {
                if (!(inputs.get(name).getInfo() instanceof TensorInfo t) || t.type != ai.onnxruntime.OnnxJavaType.FLOAT) {
                    throw new IllegalArgumentException(where + ": decoder_model_merged.onnx input " + name + " is "
                            + inputs.get(name).getInfo() + "; the runtime serves float32 graphs only (export in float32)");
                }
            }
            long[] embShape = shape(inputs.get("inputs_embeds"));
            long[] kvShape = shape(inputs.get("past_key_values.0.key"));
            int heads = BundleJson.integer(text, "num_attention_heads", BundleJson.integer(config, "num_attention_heads", -1));
            int hidden = BundleJson.integer(text, "hidden_size", BundleJson.integer(config, "hidden_size",
                    embShape.length == 3 ? (int) embShape[2] : -1));
            int kvHeads = kvShape.length == 4 && kvShape[1] > 0 ? (int) kvShape[1]
                    : BundleJson.integer(text, "num_key_value_heads", BundleJson.integer(config, "num_key_value_heads", heads));
            int headDim = kvShape.length == 4 && kvShape[3] > 0 ? (int) kvShape[3]
                    : BundleJson.integer(text, "head_dim", heads > 0 && hidden > 0 ? hidden / heads : -1);
            if (hidden <= 0 || kvHeads <= 0 || headDim <= 0 || layers <= 0) {
                throw new IllegalArgumentException(where + ": config.json must give hidden_size, num_hidden_layers and num_attention_heads"
                        + " (or the decoder's input shapes must)");
            }
            boolean useCacheBranch = inputs.containsKey("use_cache_branch");
            DecoderSession decoder = new DecoderSession(embed, dec, hidden, layers, kvHeads, headDim, axes, useCacheBranch);
            FamilyAdapter adapter = family.equals("llava")
                    ? new LlavaAdapter(vision, pre, intOf(config, text, "image_token_index", where), bos, hidden)
                    : new Qwen2VlAdapter(vision, Qwen2VlAdapter.Patching.of(pre), intOf(config, text, "image_token_id", where),
                            intOf(config, text, "vision_start_token_id", where), intOf(config, text, "vision_end_token_id", where), hidden);
            HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.builder().optTokenizerPath(dir.resolve("tokenizer.json"))
                    .optAddSpecialTokens(false).optTruncation(false).optPadding(false).build();
            opened.add(tokenizer);
            int maxNew = BundleJson.integer(gen, "max_new_tokens", 64);
            LOG.info("generator " + id + " loaded: family " + family + ", " + layers + " layers, hidden " + hidden + ", context " + context
                    + ", provider " + provider.provider());
            return new OnnxGenerator(id, adapter, decoder, tokenizer, context, eos, maxNew, prefix, suffix, batching,
                    dir.resolve("tokenizer.json"));
        } catch (OrtException e) {
            closeAll(opened);
            throw new IllegalArgumentException(where + ": ONNX model does not load: " + e.getMessage(), e);
        } catch (IOException e) {
            closeAll(opened);
            throw new UncheckedIOException(where + ": tokenizer.json cannot be read", e);
        } catch (RuntimeException e) {
            closeAll(opened);
            throw e;
        }
    }

    private static String manifestId(Path dir) {
        ModelBundleManifest m = ModelBundles.read(dir, "generator");
        return m.getName() + "@" + m.getVersion();
    }

    private static int intOf(JsonObject first, JsonObject second, String key, String where) {
        if (BundleJson.has(first, key)) {
            return first.get(key).getAsInt();
        }
        if (BundleJson.has(second, key)) {
            return second.get(key).getAsInt();
        }
        throw new IllegalArgumentException(where + ": config.json has no " + key);
    }

    private static OrtSession session(OrtEnvironment env, Path dir, String file, ExecutionProviders.Choice provider,
            List<AutoCloseable> opened) throws OrtException {
        try {
            OrtSession s = env.createSession(dir.resolve(file).toString(), provider.options());
            opened.add(s);
            return s;
        } catch (OrtException e) {
            throw new IllegalArgumentException("generator bundle " + dir + ": " + file + " does not load: " + e.getMessage(), e);
        }
    }

    private static void requireNames(java.util.Set<String> have, List<String> need, String file, String kind, String where) {
        for (String n : need) {
            if (!have.contains(n)) {
                throw new IllegalArgumentException(where + ": " + file + " has no " + kind + " " + n + " (it has " + new java.util.TreeSet<>(have) + ")");
            }
        }
    }

    private static long[] shape(NodeInfo info) {
        return info.getInfo() instanceof TensorInfo t ? t.getShape() : new long[0];
    }

    private static void closeAll(List<AutoCloseable> opened) {
        for (AutoCloseable c : opened) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.fine("closing after a failed load: " + e.getMessage());
            }
        }
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public String family() {
        return adapter.family();
    }

    @Override
    public int contextLength() {
        return context;
    }

    @Override
    public int countTokens(String text) {
        return encode(text).length;
    }

    @Override
    public int overheadTokens(GenerationInput input) {
        return adapter.layout(input.image(), encode(templated(input.prompt()))).length - countTokens(input.prompt());
    }

    /**
     * The vocabulary as text, for grammar constraints: learned from the tokenizer's decoder once, at the
     * first constrained request (one decode per token id of tokenizer.json).
     */
    public TokenVocabulary vocabulary() {
        TokenVocabulary v = vocabulary;
        if (v == null) {
            synchronized (this) {
                v = vocabulary;
                if (v == null) {
                    int size;
                    try {
                        size = WordPieceVocabulary.vocabularySize(Files.readString(tokenizerFile));
                    } catch (IOException e) {
                        throw new UncheckedIOException("generator " + id + ": " + tokenizerFile + " cannot be read", e);
                    }
                    int[] ref = encode("a");
                    v = TokenVocabulary.learn(size, ref.length == 1 ? ref[0] : 0, eos, this::decode);
                    vocabulary = v;
                }
            }
        }
        return v;
    }

    /** The bundle's generation_config.json max_new_tokens (64 when it gives none): what max_new_tokens 0 means. */
    public int defaultMaxNewTokens() {
        return defaultMaxNewTokens;
    }

    public Stats stats() {
        return scheduler.stats();
    }

    /** Test seam: {@code hook} runs on the scheduler thread before every decode step. */
    void beforeEachStep(Runnable hook) {
        scheduler.beforeStep = hook;
    }

    @Override
    public Generation generate(GenerationInput input, DecodingOptions options, Consumer<String> onText) {
        DecodeState s = newState(input, options);
        scheduler.submit(s);
        try {
            while (true) {
                Object e = s.events.take();
                if (e instanceof String text) {
                    if (onText != null) {
                        onText.accept(text);
                    }
                } else if (e instanceof Generation g) {
                    return g;
                } else {
                    // the batch's failure, from the scheduler thread: wrapped so this caller's stack is there too
                    RuntimeException cause = (RuntimeException) e;
                    throw new IllegalStateException("generation failed: " + cause.getMessage(), cause);
                }
            }
        } catch (InterruptedException e) {
            s.cancelled = true;
            Thread.currentThread().interrupt();
            CancellationException c = new CancellationException("generation interrupted");
            c.initCause(e);
            throw c;
        } catch (RuntimeException | Error e) {
            s.cancelled = true; // the scheduler drops it at the next step
            throw e;
        }
    }

    /** Greedy or sampled decoding that recomputes the whole sequence every step (no cache, no batching): the reference for parity checks. */
    public Generation generateWithoutCache(GenerationInput input, DecodingOptions options) {
        DecodeState s = newState(input, options);
        boolean done = false;
        while (!done) {
            int[] extra = s.tokens();
            DecoderSession.Output out = fullPass(s.prompt, s.promptEmbeds, extra, false);
            done = s.accept(s.choose(out.logits(), 0, out.vocab()));
        }
        return s.result();
    }

    /** The input ids of input + response as the model sees them: the adapter's layout, the response's tokens, then eos. */
    public int[] inputIds(GenerationInput input, String response) {
        int[] prompt = adapter.layout(input.image(), encode(templated(input.prompt())));
        int[] resp = encode(response);
        int[] ids = Arrays.copyOf(prompt, prompt.length + resp.length + 1);
        System.arraycopy(resp, 0, ids, prompt.length, resp.length);
        ids[ids.length - 1] = eos[0];
        return ids;
    }

    /** Logits [position][vocab] of one full pass over {@link #inputIds}: logits[t] predicts token t + 1. */
    public float[][] logits(GenerationInput input, String response) {
        FamilyAdapter.Prepared p = prepare(input);
        int[] rest = responseIds(response);
        DecoderSession.Output out = fullPass(p, embedPrompt(p), rest, true);
        int n = p.ids().length + rest.length;
        float[][] rows = new float[n][];
        for (int t = 0; t < n; t++) {
            rows[t] = Arrays.copyOfRange(out.logits(), t * out.vocab(), (t + 1) * out.vocab());
        }
        return rows;
    }

    @Override
    public double logProb(GenerationInput input, String response) {
        FamilyAdapter.Prepared p = prepare(input);
        int[] rest = responseIds(response);
        DecoderSession.Output out = fullPass(p, embedPrompt(p), rest, true);
        int v = out.vocab();
        int start = p.ids().length;
        double sum = 0;
        for (int k = 0; k < rest.length; k++) {
            sum += logSoftmax(out.logits(), (start + k - 1) * v, v, rest[k]);
        }
        return sum;
    }

    static double logSoftmax(float[] logits, int offset, int vocab, int token) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, logits[offset + i]);
        }
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            sum += Math.exp(logits[offset + i] - max);
        }
        return logits[offset + token] - max - Math.log(sum);
    }

    private int[] responseIds(String response) {
        int[] resp = encode(response);
        int[] rest = Arrays.copyOf(resp, resp.length + 1);
        rest[resp.length] = eos[0];
        return rest;
    }

    private FamilyAdapter.Prepared prepare(GenerationInput input) {
        return adapter.prepare(input.image(), encode(templated(input.prompt())));
    }

    private DecodeState newState(GenerationInput input, DecodingOptions options) {
        long start = System.nanoTime();
        if (options.temperature() < 0 || !(options.topP() > 0 && options.topP() <= 1) || options.topK() < 0
                || !(options.repetitionPenalty() > 0)) {
            throw new IllegalArgumentException("decoding options out of range: temperature " + options.temperature() + " (>= 0), top_p "
                    + options.topP() + " (0..1], top_k " + options.topK() + " (>= 0), repetition_penalty " + options.repetitionPenalty() + " (> 0)");
        }
        int maxNew = options.maxNewTokens() > 0 ? options.maxNewTokens() : defaultMaxNewTokens;
        int[] textIds = encode(templated(input.prompt()));
        int promptTokens = adapter.layout(input.image(), textIds).length;
        if (promptTokens == 0) {
            throw new IllegalArgumentException("empty prompt: no image, no text and no start token");
        }
        if (promptTokens > context - maxNew) {
            throw new IllegalArgumentException("prompt takes " + promptTokens + " tokens (" + textIds.length + " of text), over the context "
                    + context + " minus max_new_tokens " + maxNew + " = " + (context - maxNew));
        }
        ChoiceTrie trie = null;
        if (!options.choices().isEmpty()) {
            trie = new ChoiceTrie(options.choices().stream().map(this::encode).toList(), eos[0]);
        }
        TokenConstraint constraint = options.constraint() == null ? null : options.constraint().bind(vocabulary(), maxNew);
        FamilyAdapter.Prepared p = adapter.prepare(input.image(), textIds);
        return new DecodeState(p, embedPrompt(p), options, maxNew, eos, trie, constraint, this::decode, start);
    }

    /** Embeds the prompt ids and puts the image features in place of the image tokens' rows, in order. */
    private float[] embedPrompt(FamilyAdapter.Prepared p) {
        int[] ids = p.ids();
        int h = decoder.hidden;
        float[] embeds = decoder.embed(Arrays.stream(ids).asLongStream().toArray(), 1, ids.length);
        int rows = p.imageFeatures().length / h;
        int k = 0;
        for (int i = 0; i < ids.length && k < rows; i++) {
            if (ids[i] == adapter.imageTokenId()) {
                System.arraycopy(p.imageFeatures(), k * h, embeds, i * h, h);
                k++;
            }
        }
        if (k != rows) {
            throw new IllegalStateException(rows + " image feature rows but " + k + " image tokens in the input ids");
        }
        return embeds;
    }

    /** One pass without a cache over the prompt and {@code extra} tokens after it. */
    private DecoderSession.Output fullPass(FamilyAdapter.Prepared p, float[] promptEmbeds, int[] extra, boolean allPositions) {
        int n = p.ids().length;
        int len = n + extra.length;
        if (len > context) {
            throw new IllegalArgumentException("sequence of " + len + " tokens is over the context " + context);
        }
        int h = decoder.hidden;
        float[] embeds = Arrays.copyOf(promptEmbeds, len * h);
        if (extra.length > 0) {
            float[] e = decoder.embed(Arrays.stream(extra).asLongStream().toArray(), 1, extra.length);
            System.arraycopy(e, 0, embeds, n * h, e.length);
        }
        int axes = adapter.positionAxes();
        long[] positions = new long[axes * len];
        for (int a = 0; a < axes; a++) {
            System.arraycopy(p.positions()[a], 0, positions, a * len, n);
            for (int j = n; j < len; j++) {
                positions[a * len + j] = j + p.positionDelta();
            }
        }
        long[] mask = new long[len];
        Arrays.fill(mask, 1L);
        DecoderSession.Output out = decoder.run(embeds, 1, len, positions, KvCache.empty(decoder.layers, decoder.kvHeads, decoder.headDim, 1),
                mask, allPositions);
        out.cache().close(); // only the logits are wanted
        return out;
    }

    private String templated(String prompt) {
        return prefix + prompt + suffix;
    }

    private int[] encode(String text) {
        return Arrays.stream(tokenizer.encode(text).getIds()).mapToInt(Math::toIntExact).toArray();
    }

    private String decode(int[] ids) {
        return tokenizer.decode(Arrays.stream(ids).asLongStream().toArray(), true);
    }

    @Override
    public void close() {
        scheduler.close();
        decoder.close();
        adapter.close();
        tokenizer.close();
    }
}

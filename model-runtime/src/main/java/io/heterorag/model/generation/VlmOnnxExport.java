package io.heterorag.model.generation;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import io.heterorag.model.bundle.OnnxGraphs;

/**
 * Writes the platform's VLM as a bundle in the Hugging Face three-graph layout (docs/generator.md):
 * {@code vision_encoder.onnx}, {@code embed_tokens.onnx}, {@code decoder_model_merged.onnx} plus
 * tokenizer, config, generation and preprocessor JSON. The graphs are built op by op (opset 17,
 * for LayerNormalization) from named float weights; every linear weight is {@code [in, out]}.
 */
public final class VlmOnnxExport {

    public static final String VISION_ENCODER = "vision_encoder.onnx";
    public static final String EMBED_TOKENS = "embed_tokens.onnx";
    public static final String DECODER = "decoder_model_merged.onnx";
    public static final int OPSET = 17;
    static final float LN_EPSILON = 1e-5f;
    /** Score of a key a query may not see (replaced, not added, so no -inf arithmetic). */
    static final float MASKED = -1e9f;
    /** Channels of the llava vision tower's first three conv blocks; the fourth has visionChannels. */
    static final int[] CONV_CHANNELS = {3, 32, 64, 64};
    /** OpenAI CLIP normalisation, as Qwen2-VL's processor uses. */
    static final double[] CLIP_MEAN = {0.48145466, 0.4578275, 0.40821073};
    static final double[] CLIP_STD = {0.26862954, 0.26130258, 0.27577711};

    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    private VlmOnnxExport() {
    }

    /**
     * Writes the bundle (not bundle.json: the caller names and versions it through ModelBundles).
     * Throws IllegalArgumentException naming a missing, unexpected or mis-sized weight, or a
     * tokenizer with more ids than the vocabulary.
     */
    public static void write(Path dir, VlmConfig cfg, Map<String, float[]> weights, String tokenizerJson) {
        check(cfg, weights);
        checkTokenizer(cfg, tokenizerJson);
        try {
            Files.createDirectories(dir);
            Files.write(dir.resolve(VISION_ENCODER), OnnxGraphs.model(
                    cfg.isLlava() ? llavaVision(cfg, weights) : qwenVision(cfg, weights), OPSET).toByteArray());
            Files.write(dir.resolve(EMBED_TOKENS), OnnxGraphs.model(embedTokens(cfg, weights), OPSET).toByteArray());
            Files.write(dir.resolve(DECODER), OnnxGraphs.model(decoder(cfg, weights), OPSET).toByteArray());
            Files.writeString(dir.resolve("tokenizer.json"), tokenizerJson);
            Files.writeString(dir.resolve("config.json"), GSON.toJson(cfg.isLlava() ? llavaConfig(cfg) : qwenConfig(cfg)));
            Files.writeString(dir.resolve("generation_config.json"), GSON.toJson(generationConfig(cfg)));
            Files.writeString(dir.resolve("preprocessor_config.json"),
                    GSON.toJson(cfg.isLlava() ? llavaPreprocessor(cfg) : qwenPreprocessor(cfg)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the VLM bundle to " + dir, e);
        }
    }

    /** Every parameter's name and shape, in a fixed order (the trainer checks its network against it). */
    public static Map<String, long[]> shapes(VlmConfig cfg) {
        Map<String, long[]> s = new LinkedHashMap<>();
        long h = cfg.hidden();
        if (cfg.isLlava()) {
            long[] ch = {CONV_CHANNELS[0], CONV_CHANNELS[1], CONV_CHANNELS[2], CONV_CHANNELS[3], cfg.visionChannels()};
            for (int i = 0; i < 4; i++) {
                s.put("vision.conv" + i + ".weight", new long[] {ch[i + 1], ch[i], 3, 3});
                s.put("vision.conv" + i + ".bias", new long[] {ch[i + 1]});
            }
            s.put("vision.proj1.weight", new long[] {cfg.visionChannels(), h});
            s.put("vision.proj1.bias", new long[] {h});
            s.put("vision.proj2.weight", new long[] {h, h});
            s.put("vision.proj2.bias", new long[] {h});
        } else {
            long merged = (long) VlmConfig.QWEN_MERGE * VlmConfig.QWEN_MERGE * VlmConfig.QWEN_PATCH_VALUES;
            s.put("vision.merge.weight", new long[] {merged, h});
            s.put("vision.merge.bias", new long[] {h});
        }
        s.put("embed.weight", new long[] {cfg.vocabSize(), h});
        for (String table : positionTables(cfg)) {
            s.put(table, new long[] {cfg.context(), h});
        }
        for (int l = 0; l < cfg.layers(); l++) {
            String p = "decoder.layers." + l + ".";
            s.put(p + "ln1.weight", new long[] {h});
            s.put(p + "ln1.bias", new long[] {h});
            for (String m : List.of("q", "k", "v", "o")) {
                s.put(p + "attn." + m + ".weight", new long[] {h, h});
                s.put(p + "attn." + m + ".bias", new long[] {h});
            }
            s.put(p + "ln2.weight", new long[] {h});
            s.put(p + "ln2.bias", new long[] {h});
            s.put(p + "mlp.fc1.weight", new long[] {h, 4 * h});
            s.put(p + "mlp.fc1.bias", new long[] {4 * h});
            s.put(p + "mlp.fc2.weight", new long[] {4 * h, h});
            s.put(p + "mlp.fc2.bias", new long[] {h});
        }
        s.put("decoder.ln_f.weight", new long[] {h});
        s.put("decoder.ln_f.bias", new long[] {h});
        s.put("lm_head.weight", new long[] {h, cfg.vocabSize()});
        return s;
    }

    /**
     * Seeded small weights for fixtures: LayerNorm scales 1, biases small, matrices Gaussian scaled
     * by 1/√fan-in (He for the ReLU convs), embeddings and position tables with std 0.5.
     */
    public static Map<String, float[]> randomWeights(VlmConfig cfg, long seed) {
        Random random = new Random(seed);
        Map<String, float[]> w = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : shapes(cfg).entrySet()) {
            String name = e.getKey();
            long[] shape = e.getValue();
            float[] v = new float[(int) size(shape)];
            boolean layerNorm = name.contains(".ln");
            double std;
            if (layerNorm && name.endsWith(".weight")) {
                Arrays.fill(v, 1f);
                w.put(name, v);
                continue;
            } else if (name.endsWith(".bias")) {
                std = 0.02;
            } else if (name.startsWith("vision.conv")) {
                std = Math.sqrt(2.0 / (shape[1] * 9));
            } else if (name.equals("embed.weight") || name.startsWith("decoder.pos")) {
                std = 0.5;
            } else {
                std = 1 / Math.sqrt(shape[0]);
            }
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (random.nextGaussian() * std);
            }
            w.put(name, v);
        }
        return w;
    }

    static void check(VlmConfig cfg, Map<String, float[]> weights) {
        Map<String, long[]> expected = shapes(cfg);
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            float[] v = weights.get(e.getKey());
            if (v == null) {
                problems.add("missing weight " + e.getKey() + " " + Arrays.toString(e.getValue()));
            } else if (v.length != size(e.getValue())) {
                problems.add("weight " + e.getKey() + " has " + v.length + " values, shape " + Arrays.toString(e.getValue())
                        + " needs " + size(e.getValue()));
            }
        }
        Set<String> unexpected = new HashSet<>(weights.keySet());
        unexpected.removeAll(expected.keySet());
        unexpected.stream().sorted().forEach(n -> problems.add("unexpected weight " + n + " (not in the " + cfg.family() + " architecture)"));
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("cannot export the VLM: " + String.join("; ", problems));
        }
    }

    private static void checkTokenizer(VlmConfig cfg, String tokenizerJson) {
        int size = WordPieceVocabulary.vocabularySize(tokenizerJson);
        if (size > cfg.vocabSize()) {
            throw new IllegalArgumentException("tokenizer.json has id " + (size - 1) + ", outside the model's vocabulary of " + cfg.vocabSize());
        }
    }

    private static List<String> positionTables(VlmConfig cfg) {
        return cfg.isLlava() ? List.of("decoder.pos") : List.of("decoder.pos_t", "decoder.pos_h", "decoder.pos_w");
    }

    private static long size(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    // ---- graphs ----

    /** pixel_values [B,3,S,S] → 4 × (Conv 3×3 + ReLU + MaxPool 2) → [B,N,C] → Linear, GELU, Linear → image_features [B,N,H]. */
    static GraphProto llavaVision(VlmConfig cfg, Map<String, float[]> w) {
        Graph g = new Graph("vision_encoder", cfg, w);
        int s = cfg.imageSize();
        g.input(OnnxGraphs.value("pixel_values", TensorProto.DataType.FLOAT, "batch", 3, s, s));
        String x = "pixel_values";
        for (int i = 0; i < 4; i++) {
            x = g.op("Conv", List.of(x, g.weight("vision.conv" + i + ".weight"), g.weight("vision.conv" + i + ".bias")),
                    OnnxGraphs.ints("kernel_shape", 3, 3), OnnxGraphs.ints("pads", 1, 1, 1, 1));
            x = g.op("Relu", List.of(x));
            x = g.op("MaxPool", List.of(x), OnnxGraphs.ints("kernel_shape", 2, 2), OnnxGraphs.ints("strides", 2, 2));
        }
        x = g.op("Reshape", List.of(x, g.ints(0, cfg.visionChannels(), -1)));
        x = g.op("Transpose", List.of(x), OnnxGraphs.ints("perm", 0, 2, 1));
        x = g.gelu(g.linear(x, "vision.proj1"));
        g.linearNamed(x, "vision.proj2", "image_features");
        g.output(OnnxGraphs.value("image_features", TensorProto.DataType.FLOAT, "batch", cfg.imageTokens(), cfg.hidden()));
        return g.build();
    }

    /**
     * Qwen2-VL layout: pixel_values [patches, 1176] in the processor's patch order, where four
     * consecutive patches form one 2×2 merge group → [patches/4, 4·1176] → Linear → image_features.
     * image_grid_thw is accepted as the exported Qwen2-VL encoders take it; this graph needs no grid.
     */
    static GraphProto qwenVision(VlmConfig cfg, Map<String, float[]> w) {
        Graph g = new Graph("vision_encoder", cfg, w);
        int merged = VlmConfig.QWEN_MERGE * VlmConfig.QWEN_MERGE * VlmConfig.QWEN_PATCH_VALUES;
        g.input(OnnxGraphs.value("pixel_values", TensorProto.DataType.FLOAT, "patches", VlmConfig.QWEN_PATCH_VALUES));
        g.input(OnnxGraphs.value("image_grid_thw", TensorProto.DataType.INT64, "images", 3));
        String x = g.op("Reshape", List.of("pixel_values", g.ints(-1, merged)));
        g.linearNamed(x, "vision.merge", "image_features");
        g.output(OnnxGraphs.value("image_features", TensorProto.DataType.FLOAT, "merged_patches", cfg.hidden()));
        return g.build();
    }

    /** input_ids [B,S] → Gather(embed.weight) → inputs_embeds [B,S,H]. */
    static GraphProto embedTokens(VlmConfig cfg, Map<String, float[]> w) {
        Graph g = new Graph("embed_tokens", cfg, w);
        g.input(OnnxGraphs.value("input_ids", TensorProto.DataType.INT64, "batch", "sequence"));
        g.opNamed("inputs_embeds", "Gather", List.of(g.weight("embed.weight"), "input_ids"));
        g.output(OnnxGraphs.value("inputs_embeds", TensorProto.DataType.FLOAT, "batch", "sequence", cfg.hidden()));
        return g.build();
    }

    /** The pre-LayerNorm decoder with key/value cache (docs/generator.md). */
    static GraphProto decoder(VlmConfig cfg, Map<String, float[]> w) {
        Graph g = new Graph("decoder", cfg, w);
        int h = cfg.hidden();
        int heads = cfg.heads();
        int hd = cfg.headDim();
        g.input(OnnxGraphs.value("inputs_embeds", TensorProto.DataType.FLOAT, "batch", "sequence", h));
        g.input(OnnxGraphs.value("attention_mask", TensorProto.DataType.INT64, "batch", "total_sequence"));
        if (cfg.isLlava()) {
            g.input(OnnxGraphs.value("position_ids", TensorProto.DataType.INT64, "batch", "sequence"));
        } else {
            g.input(OnnxGraphs.value("position_ids", TensorProto.DataType.INT64, 3, "batch", "sequence"));
        }
        for (int l = 0; l < cfg.layers(); l++) {
            for (String kv : List.of("key", "value")) {
                g.input(OnnxGraphs.value("past_key_values." + l + "." + kv, TensorProto.DataType.FLOAT, "batch", heads, "past_sequence", hd));
            }
        }
        g.output(OnnxGraphs.value("logits", TensorProto.DataType.FLOAT, "batch", "sequence", cfg.vocabSize()));
        for (int l = 0; l < cfg.layers(); l++) {
            for (String kv : List.of("key", "value")) {
                g.output(OnnxGraphs.value("present." + l + "." + kv, TensorProto.DataType.FLOAT, "batch", heads, "total_sequence", hd));
            }
        }

        // positions: clamped into the table (a pad's position may be anything >= 0)
        String lo = g.scalar(0);
        String hi = g.scalar(cfg.context() - 1);
        String x = "inputs_embeds";
        List<String> tables = positionTables(cfg);
        for (int a = 0; a < tables.size(); a++) {
            String ids = cfg.isLlava() ? "position_ids" : g.op("Gather", List.of("position_ids", g.scalar(a)), OnnxGraphs.integer("axis", 0));
            String clamped = g.op("Clip", List.of(ids, lo, hi));
            x = g.op("Add", List.of(x, g.op("Gather", List.of(g.weight(tables.get(a)), clamped))));
        }

        // visible[b,1,i,j] = j <= P + i  and  attention_mask[b,j] == 1, with P = total - S
        String one = g.scalar(1);
        String seq = g.op("Gather", List.of(g.op("Shape", List.of("inputs_embeds")), one));
        String total = g.op("Gather", List.of(g.op("Shape", List.of("attention_mask")), one));
        String past = g.op("Sub", List.of(total, seq));
        String queries = g.op("Range", List.of(lo, seq, one));
        String keys = g.op("Range", List.of(lo, total, one));
        String lastVisible = g.op("Unsqueeze", List.of(g.op("Add", List.of(queries, past)), g.ints(1)));
        String causal = g.op("LessOrEqual", List.of(keys, lastVisible));
        String padding = g.op("Unsqueeze", List.of(
                g.op("Cast", List.of("attention_mask"), OnnxGraphs.integer("to", TensorProto.DataType.BOOL.getNumber())), g.ints(1, 2)));
        String visible = g.op("And", List.of(causal, padding));
        String masked = g.scalarF(MASKED);
        String scale = g.scalarF((float) (1 / Math.sqrt(hd)));
        String splitHeads = g.ints(0, 0, heads, hd);
        String mergeHeads = g.ints(0, 0, h);

        for (int l = 0; l < cfg.layers(); l++) {
            String p = "decoder.layers." + l + ".";
            String a = g.layerNorm(x, p + "ln1");
            String q = g.op("Transpose", List.of(g.op("Reshape", List.of(g.linear(a, p + "attn.q"), splitHeads))),
                    OnnxGraphs.ints("perm", 0, 2, 1, 3));
            String k = g.op("Transpose", List.of(g.op("Reshape", List.of(g.linear(a, p + "attn.k"), splitHeads))),
                    OnnxGraphs.ints("perm", 0, 2, 1, 3));
            String v = g.op("Transpose", List.of(g.op("Reshape", List.of(g.linear(a, p + "attn.v"), splitHeads))),
                    OnnxGraphs.ints("perm", 0, 2, 1, 3));
            String kAll = g.opNamed("present." + l + ".key", "Concat", List.of("past_key_values." + l + ".key", k), OnnxGraphs.integer("axis", 2));
            String vAll = g.opNamed("present." + l + ".value", "Concat", List.of("past_key_values." + l + ".value", v), OnnxGraphs.integer("axis", 2));
            String scores = g.op("Mul", List.of(g.op("MatMul", List.of(q, g.op("Transpose", List.of(kAll), OnnxGraphs.ints("perm", 0, 1, 3, 2)))), scale));
            String probs = g.op("Softmax", List.of(g.op("Where", List.of(visible, scores, masked))), OnnxGraphs.integer("axis", -1));
            String o = g.op("Reshape", List.of(g.op("Transpose", List.of(g.op("MatMul", List.of(probs, vAll))),
                    OnnxGraphs.ints("perm", 0, 2, 1, 3)), mergeHeads));
            x = g.op("Add", List.of(x, g.linear(o, p + "attn.o")));
            String m = g.layerNorm(x, p + "ln2");
            x = g.op("Add", List.of(x, g.linear(g.gelu(g.linear(m, p + "mlp.fc1")), p + "mlp.fc2")));
        }
        g.opNamed("logits", "MatMul", List.of(g.layerNorm(x, "decoder.ln_f"), g.weight("lm_head.weight")));
        return g.build();
    }

    /** Builds one graph: unique node output names, each weight added once as an initializer. */
    private static final class Graph {
        private final GraphProto.Builder g;
        private final Map<String, float[]> weights;
        private final Map<String, long[]> shapes;
        private final Set<String> added = new HashSet<>();
        private int next;

        Graph(String name, VlmConfig cfg, Map<String, float[]> weights) {
            this.g = GraphProto.newBuilder().setName(name);
            this.weights = weights;
            this.shapes = shapes(cfg);
        }

        void input(ai.onnx.proto.OnnxMl.ValueInfoProto v) {
            g.addInput(v);
        }

        void output(ai.onnx.proto.OnnxMl.ValueInfoProto v) {
            g.addOutput(v);
        }

        String op(String type, List<String> in, AttributeProto... attrs) {
            return opNamed(type.toLowerCase(java.util.Locale.ROOT) + "_" + next++, type, in, attrs);
        }

        String opNamed(String out, String type, List<String> in, AttributeProto... attrs) {
            g.addNode(OnnxGraphs.node(type, in, out, attrs));
            return out;
        }

        String weight(String name) {
            if (added.add(name)) {
                g.addInitializer(OnnxGraphs.rawTensor(name, weights.get(name), shapes.get(name)));
            }
            return name;
        }

        String ints(long... values) {
            String name = "const_" + next++;
            g.addInitializer(OnnxGraphs.int64Tensor(name, values, values.length));
            return name;
        }

        String scalar(long value) {
            String name = "const_" + next++;
            g.addInitializer(OnnxGraphs.int64Tensor(name, new long[] {value}));
            return name;
        }

        String scalarF(float value) {
            String name = "const_" + next++;
            g.addInitializer(OnnxGraphs.tensor(name, new float[] {value}));
            return name;
        }

        String linear(String x, String prefix) {
            return op("Add", List.of(op("MatMul", List.of(x, weight(prefix + ".weight"))), weight(prefix + ".bias")));
        }

        void linearNamed(String x, String prefix, String out) {
            opNamed(out, "Add", List.of(op("MatMul", List.of(x, weight(prefix + ".weight"))), weight(prefix + ".bias")));
        }

        String layerNorm(String x, String prefix) {
            return op("LayerNormalization", List.of(x, weight(prefix + ".weight"), weight(prefix + ".bias")),
                    OnnxGraphs.integer("axis", -1), OnnxGraphs.floating("epsilon", LN_EPSILON));
        }

        /** Exact GELU: x/2 · (1 + erf(x/√2)). */
        String gelu(String x) {
            String erf = op("Erf", List.of(op("Mul", List.of(x, scalarF((float) (1 / Math.sqrt(2)))))));
            return op("Mul", List.of(op("Mul", List.of(x, scalarF(0.5f))), op("Add", List.of(erf, scalarF(1f)))));
        }

        GraphProto build() {
            return g.build();
        }
    }

    // ---- JSON ----

    private static Map<String, Object> textParams(VlmConfig cfg) {
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("hidden_size", cfg.hidden());
        t.put("num_hidden_layers", cfg.layers());
        t.put("num_attention_heads", cfg.heads());
        t.put("num_key_value_heads", cfg.heads());
        t.put("head_dim", cfg.headDim());
        t.put("intermediate_size", 4 * cfg.hidden());
        t.put("vocab_size", cfg.vocabSize());
        t.put("max_position_embeddings", cfg.context());
        t.put("layer_norm_eps", (double) LN_EPSILON);
        return t;
    }

    private static Map<String, Object> llavaConfig(VlmConfig cfg) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("model_type", "llava");
        c.put("architectures", List.of("HeteroragVlm"));
        c.put("image_token_index", cfg.imageTokenId());
        c.put("image_seq_length", cfg.imageTokens());
        c.put("bos_token_id", cfg.bosTokenId());
        c.put("eos_token_id", cfg.eosTokenId());
        c.put("pad_token_id", cfg.padTokenId());
        Map<String, Object> text = new LinkedHashMap<>();
        text.put("model_type", "heterorag_decoder");
        text.putAll(textParams(cfg));
        c.put("text_config", text);
        Map<String, Object> vision = new LinkedHashMap<>();
        vision.put("model_type", "heterorag_conv");
        vision.put("image_size", cfg.imageSize());
        vision.put("num_channels", 3);
        vision.put("patch_size", 16);
        vision.put("conv_channels", List.of(CONV_CHANNELS[1], CONV_CHANNELS[2], CONV_CHANNELS[3], cfg.visionChannels()));
        vision.put("hidden_size", cfg.visionChannels());
        c.put("vision_config", vision);
        c.put("torch_dtype", "float32");
        return c;
    }

    private static Map<String, Object> qwenConfig(VlmConfig cfg) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("model_type", "qwen2_vl");
        c.put("architectures", List.of("HeteroragQwen2VlStyle"));
        c.putAll(textParams(cfg));
        c.put("image_token_id", cfg.imageTokenId());
        c.put("vision_start_token_id", cfg.visionStartTokenId());
        c.put("vision_end_token_id", cfg.visionEndTokenId());
        c.put("bos_token_id", cfg.bosTokenId());
        c.put("eos_token_id", cfg.eosTokenId());
        c.put("pad_token_id", cfg.padTokenId());
        Map<String, Object> text = new LinkedHashMap<>();
        text.put("model_type", "qwen2_vl_text");
        text.putAll(textParams(cfg));
        c.put("text_config", text);
        Map<String, Object> vision = new LinkedHashMap<>();
        vision.put("patch_size", VlmConfig.QWEN_PATCH);
        vision.put("temporal_patch_size", VlmConfig.QWEN_TEMPORAL_PATCH);
        vision.put("spatial_merge_size", VlmConfig.QWEN_MERGE);
        vision.put("in_chans", 3);
        vision.put("hidden_size", cfg.hidden());
        c.put("vision_config", vision);
        c.put("torch_dtype", "float32");
        return c;
    }

    private static Map<String, Object> generationConfig(VlmConfig cfg) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("bos_token_id", cfg.bosTokenId());
        c.put("eos_token_id", cfg.eosTokenId());
        c.put("pad_token_id", cfg.padTokenId());
        c.put("max_new_tokens", cfg.maxNewTokens());
        return c;
    }

    private static Map<String, Object> llavaPreprocessor(VlmConfig cfg) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("do_resize", true);
        c.put("size", Map.of("height", cfg.imageSize(), "width", cfg.imageSize()));
        c.put("do_center_crop", false);
        c.put("crop_size", Map.of("height", cfg.imageSize(), "width", cfg.imageSize()));
        c.put("do_rescale", true);
        c.put("rescale_factor", 1 / 255.0);
        c.put("do_normalize", true);
        c.put("image_mean", List.of(0.5, 0.5, 0.5));
        c.put("image_std", List.of(0.25, 0.25, 0.25));
        c.put("do_convert_rgb", true);
        return c;
    }

    private static Map<String, Object> qwenPreprocessor(VlmConfig cfg) {
        int pixels = cfg.imageSize() * cfg.imageSize();
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("image_processor_type", "Qwen2VLImageProcessor");
        c.put("processor_class", "Qwen2VLProcessor");
        c.put("do_resize", true);
        c.put("min_pixels", pixels);
        c.put("max_pixels", pixels);
        c.put("size", Map.of("shortest_edge", pixels, "longest_edge", pixels));
        c.put("patch_size", VlmConfig.QWEN_PATCH);
        c.put("temporal_patch_size", VlmConfig.QWEN_TEMPORAL_PATCH);
        c.put("merge_size", VlmConfig.QWEN_MERGE);
        c.put("do_rescale", true);
        c.put("rescale_factor", 1 / 255.0);
        c.put("do_normalize", true);
        c.put("image_mean", Arrays.stream(CLIP_MEAN).boxed().toList());
        c.put("image_std", Arrays.stream(CLIP_STD).boxed().toList());
        c.put("do_convert_rgb", true);
        return c;
    }
}

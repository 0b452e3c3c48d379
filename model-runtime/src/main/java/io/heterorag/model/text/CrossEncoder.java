package io.heterorag.model.text;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.util.PairList;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.heterorag.model.bundle.OnnxSessions;
import io.heterorag.model.bundle.ModelBundles;
import io.heterorag.proto.v1.ModelBundleManifest;

/**
 * A cross-encoder reranker (e.g. an exported MS MARCO MiniLM cross-encoder) run in ONNX Runtime: each
 * (query, passage) pair is tokenized together and the graph's first output is one relevance logit
 * per pair ([N] or [N, 1]). Bundle kind "cross_encoder" with onnx_file, tokenizer_file and max_tokens.
 */
public final class CrossEncoder implements AutoCloseable {

    private final String id;
    private final OrtSession session;
    private final HuggingFaceTokenizer tokenizer;

    private CrossEncoder(String id, OrtSession session, HuggingFaceTokenizer tokenizer) {
        this.id = id;
        this.session = session;
        this.tokenizer = tokenizer;
    }

    public static CrossEncoder load(Path bundleDir, OrtSession.SessionOptions options) {
        ModelBundleManifest m = ModelBundles.read(bundleDir);
        if (!"cross_encoder".equals(m.getKind()) || m.getTokenizerFile().isEmpty() || m.getMaxTokens() <= 0) {
            throw new IllegalArgumentException("bundle " + bundleDir + " is not a cross_encoder with tokenizer_file and max_tokens");
        }
        try (InputStream tok = Files.newInputStream(bundleDir.resolve(m.getTokenizerFile()))) {
            OrtSession session = OrtEnvironment.getEnvironment().createSession(bundleDir.resolve(m.getOnnxFile()).toString(), options);
            HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.newInstance(tok, Map.of("maxLength", String.valueOf(m.getMaxTokens()),
                    "truncation", "ONLY_SECOND", "padding", "true"));
            return new CrossEncoder(m.getName() + "@" + m.getVersion(), session, tokenizer);
        } catch (OrtException e) {
            throw new IllegalArgumentException("bundle " + bundleDir + ": ONNX model does not load: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("bundle " + bundleDir + " cannot be read", e);
        }
    }

    public String id() {
        return id;
    }

    /** One relevance score per passage for the query, in order (higher is more relevant). */
    public float[] score(String query, List<String> passages) {
        if (passages.isEmpty()) {
            return new float[0];
        }
        List<String> queries = new ArrayList<>();
        passages.forEach(p -> queries.add(query));
        try {
            return BertInputs.run(session, tokenizer.batchEncode(new PairList<>(queries, passages)), (result, mask, len) -> {
                Object out = result.get(0).getValue();
                if (out instanceof float[] flat) {
                    return flat;
                }
                float[][] rows = (float[][]) out;
                float[] scores = new float[rows.length];
                for (int i = 0; i < rows.length; i++) {
                    scores[i] = rows[i][rows[i].length - 1]; // [N, 1]; with two classes, the "relevant" logit
                }
                return scores;
            });
        } catch (OrtException e) {
            throw new IllegalStateException("cross-encoder " + id + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        OnnxSessions.close(session);
        tokenizer.close();
    }
}

package io.heterorag.model.text;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.heterorag.model.bundle.OnnxGraphs;

/**
 * Cross-encoder bundles for tests, written by the project: a real ONNX graph over the real MiniLM
 * tokenizer whose logit counts the pair's tokens that belong to given words, so a test knows which
 * passage a reranker must put first. Not a trained model.
 */
public final class CrossEncoderBundles {

    static final int VOCAB = 30522;

    private CrossEncoderBundles() {
    }

    public static Path termCounter(Path dir, String... words) {
        byte[] tokenizerJson = tokenizerJson();
        GraphProto.Builder g = GraphProto.newBuilder().setName("term_counter")
                .addInput(int64("input_ids")).addInput(int64("attention_mask"))
                .addOutput(OnnxGraphs.floatValue("logits", -1, 1));
        g.addInitializer(OnnxGraphs.tensor("weights", wordWeights(tokenizerJson, words), VOCAB));
        g.addInitializer(OnnxGraphs.int64Tensor("axes", new long[] {1}, 1));
        g.addNode(OnnxGraphs.node("Gather", List.of("weights", "input_ids"), "token_weights"));
        g.addNode(OnnxGraphs.node("Cast", List.of("attention_mask"), "mask", OnnxGraphs.integer("to", TensorProto.DataType.FLOAT.getNumber())));
        g.addNode(OnnxGraphs.node("Mul", List.of("token_weights", "mask"), "masked"));
        g.addNode(OnnxGraphs.node("ReduceSum", List.of("masked", "axes"), "logits", OnnxGraphs.integer("keepdims", 1)));
        return write(dir, "term-counter", g, tokenizerJson);
    }

    /**
     * A cross-encoder that counts the given words' tokens in the passage only (token type 1, the second
     * segment), so a test sees whether token_type_ids reach the model. classes: 0 → logits [N], 1 → [N, 1],
     * 2 → [N, 2] with the "relevant" logit last (the count) and the other its negation.
     */
    public static Path passageTermCounter(Path dir, int classes, String... words) {
        byte[] tokenizerJson = tokenizerJson();
        GraphProto.Builder g = GraphProto.newBuilder().setName("passage_term_counter")
                .addInput(int64("input_ids")).addInput(int64("attention_mask")).addInput(int64("token_type_ids"))
                .addOutput(classes == 0 ? OnnxGraphs.floatValue("logits", -1) : OnnxGraphs.floatValue("logits", -1, classes));
        g.addInitializer(OnnxGraphs.tensor("weights", wordWeights(tokenizerJson, words), VOCAB));
        g.addInitializer(OnnxGraphs.int64Tensor("axes", new long[] {1}, 1));
        int f = TensorProto.DataType.FLOAT.getNumber();
        g.addNode(OnnxGraphs.node("Gather", List.of("weights", "input_ids"), "token_weights"));
        g.addNode(OnnxGraphs.node("Cast", List.of("attention_mask"), "mask", OnnxGraphs.integer("to", f)));
        g.addNode(OnnxGraphs.node("Cast", List.of("token_type_ids"), "segment", OnnxGraphs.integer("to", f)));
        g.addNode(OnnxGraphs.node("Mul", List.of("token_weights", "mask"), "masked"));
        g.addNode(OnnxGraphs.node("Mul", List.of("masked", "segment"), "in_passage"));
        String count = classes == 2 ? "count" : "logits";
        g.addNode(OnnxGraphs.node("ReduceSum", List.of("in_passage", "axes"), count, OnnxGraphs.integer("keepdims", classes == 0 ? 0 : 1)));
        if (classes == 2) {
            g.addNode(OnnxGraphs.node("Neg", List.of("count"), "not_count"));
            g.addNode(OnnxGraphs.node("Concat", List.of("not_count", "count"), "logits", OnnxGraphs.integer("axis", 1)));
        }
        return write(dir, "passage-term-counter", g, tokenizerJson);
    }

    /** The real MiniLM tokenizer.json shipped in its Maven jar. */
    private static byte[] tokenizerJson() {
        try (InputStream tok = CrossEncoderBundles.class.getClassLoader().getResourceAsStream(TextEncoder.MINILM + "-tokenizer.json")) {
            return tok.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** 1 for every vocabulary id that a token of one of the words has, 0 elsewhere. */
    private static float[] wordWeights(byte[] tokenizerJson, String... words) {
        float[] weights = new float[VOCAB];
        try (HuggingFaceTokenizer t = HuggingFaceTokenizer.newInstance(new java.io.ByteArrayInputStream(tokenizerJson),
                Map.of("addSpecialTokens", "false"))) {
            for (String w : words) {
                for (long id : t.encode(w).getIds()) {
                    weights[(int) id] = 1;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return weights;
    }

    private static Path write(Path dir, String name, GraphProto.Builder graph, byte[] tokenizerJson) {
        try {
            Files.createDirectories(dir);
            Files.write(dir.resolve("model.onnx"), OnnxGraphs.model(graph.build()).toByteArray());
            Files.write(dir.resolve("tokenizer.json"), tokenizerJson);
            Files.writeString(dir.resolve("bundle.json"), """
                    {"name": "%s", "version": "test", "kind": "cross_encoder", "onnx_file": "model.onnx",
                     "tokenizer_file": "tokenizer.json", "max_tokens": 128}""".formatted(name));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ValueInfoProto int64(String name) {
        TensorShapeProto shape = TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("batch"))
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("tokens")).build();
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                .setElemType(TensorProto.DataType.INT64.getNumber()).setShape(shape))).build();
    }
}

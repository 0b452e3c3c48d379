package io.heterorag.tuning.training;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.heterorag.model.generation.VlmConfig;
import io.heterorag.model.generation.VlmOnnxExport;

/**
 * The load path of the platform's VLM: reads a bundle written by {@link VlmOnnxExport} back into
 * its config, named float weights (the graphs' initializers carry the contract's names and
 * {@code [in, out]} shapes) and tokenizer, so training can continue from a served generator (DPO).
 * Only the llava-family platform VLM: a bundle of another architecture is refused, naming why.
 */
public record VlmBundleWeights(VlmConfig config, Map<String, float[]> weights, String tokenizerJson) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public static VlmBundleWeights read(Path dir) {
        try {
            JsonNode cfg = JSON.readTree(dir.resolve("config.json").toFile());
            if (!"llava".equals(cfg.path("model_type").asText()) || !cfg.path("architectures").toString().contains("HeteroragVlm")) {
                throw new IllegalArgumentException(dir + " is not the platform's VLM (llava family, architecture HeteroragVlm): "
                        + "preference tuning trains only that model");
            }
            JsonNode text = cfg.path("text_config");
            JsonNode vision = cfg.path("vision_config");
            JsonNode gen = JSON.readTree(dir.resolve("generation_config.json").toFile());
            JsonNode conv = vision.path("conv_channels");
            VlmConfig c = VlmConfig.llava(text.path("vocab_size").asInt(), text.path("hidden_size").asInt(),
                    text.path("num_hidden_layers").asInt(), text.path("num_attention_heads").asInt(),
                    text.path("max_position_embeddings").asInt(), vision.path("image_size").asInt(),
                    conv.get(conv.size() - 1).asInt(), gen.path("max_new_tokens").asInt(64));
            Map<String, long[]> shapes = VlmOnnxExport.shapes(c);
            Map<String, float[]> found = new LinkedHashMap<>();
            for (String graph : List.of(VlmOnnxExport.VISION_ENCODER, VlmOnnxExport.EMBED_TOKENS, VlmOnnxExport.DECODER)) {
                ModelProto m = ModelProto.parseFrom(Files.readAllBytes(dir.resolve(graph)));
                for (TensorProto t : m.getGraph().getInitializerList()) {
                    long[] shape = shapes.get(t.getName());
                    if (shape == null) {
                        continue; // a constant of the graph, not a weight
                    }
                    if (!Arrays.equals(shape, t.getDimsList().stream().mapToLong(Long::longValue).toArray())) {
                        throw new IllegalArgumentException(graph + ": " + t.getName() + " has shape " + t.getDimsList() + ", the config says "
                                + Arrays.toString(shape));
                    }
                    found.put(t.getName(), floats(t));
                }
            }
            Map<String, float[]> weights = new LinkedHashMap<>();
            for (String name : shapes.keySet()) {
                float[] w = found.get(name);
                if (w == null) {
                    throw new IllegalArgumentException(dir + " has no weight " + name);
                }
                weights.put(name, w);
            }
            return new VlmBundleWeights(c, weights, Files.readString(dir.resolve("tokenizer.json")));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the generator bundle " + dir, e);
        }
    }

    private static float[] floats(TensorProto t) {
        if (t.getDataType() != TensorProto.DataType.FLOAT.getNumber()) {
            throw new IllegalArgumentException(t.getName() + " is not float32");
        }
        if (!t.getRawData().isEmpty()) {
            float[] out = new float[t.getRawData().size() / Float.BYTES];
            t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
            return out;
        }
        float[] out = new float[t.getFloatDataCount()];
        for (int i = 0; i < out.length; i++) {
            out[i] = t.getFloatData(i);
        }
        return out;
    }
}

package io.heterorag.tuning.training;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.util.Pair;
import ai.onnx.proto.OnnxMl.GraphProto;
import io.heterorag.model.bundle.ModelBundles;
import io.heterorag.model.bundle.OnnxGraphs;
import io.heterorag.proto.v1.ImagePreprocessing;
import io.heterorag.proto.v1.ModelBundleManifest;

/**
 * The weights of a trained {@link ModClipNetwork}, copied out of DJL, and their export as a model
 * bundle: model.onnx (image tower: Conv/Relu/MaxPool blocks, Flatten, Gemm, L2 normalisation) and
 * text.onnx (Gemm + L2 normalisation over MiniLM embeddings), both opset 13.
 */
public record ModClipWeights(List<Tensor> convs, Tensor imageLinear, Tensor textLinear, float logitScale, int dimension,
        int imageSize) {

    /** A weight and its bias, with the weight's shape. */
    public record Tensor(float[] weight, long[] shape, float[] bias) {
    }

    static ModClipWeights of(ModClipNetwork net, int dimension, int imageSize) {
        List<Tensor> convs = new ArrayList<>();
        Tensor linear = null;
        for (Pair<String, Block> child : net.image.getChildren()) {
            if (child.getValue() instanceof Conv2d || child.getValue() instanceof Linear) {
                Tensor t = tensor(child.getValue());
                if (child.getValue() instanceof Conv2d) {
                    convs.add(t);
                } else {
                    linear = t;
                }
            }
        }
        float scale = net.logitScale.getArray().toFloatArray()[0];
        return new ModClipWeights(convs, linear, tensor(net.text), scale, dimension, imageSize);
    }

    private static Tensor tensor(Block b) {
        NDArray w = null;
        NDArray bias = null;
        for (Pair<String, Parameter> p : b.getParameters()) {
            if (p.getValue().getType() == Parameter.Type.WEIGHT) {
                w = p.getValue().getArray();
            } else if (p.getValue().getType() == Parameter.Type.BIAS) {
                bias = p.getValue().getArray();
            }
        }
        if (w == null || bias == null) {
            throw new IllegalStateException("block " + b + " lacks a weight or a bias");
        }
        return new Tensor(w.toFloatArray(), w.getShape().getShape(), bias.toFloatArray());
    }

    /** How images become the tower's input: grayscale, squashed to size×size, (x - 0.5) / 0.25. */
    public static ImagePreprocessing preprocessing(int imageSize) {
        return ImagePreprocessing.newBuilder().setSize(imageSize).setResize("squash").setChannels(1)
                .addMean(0.5f).addStd(0.25f).build();
    }

    /** Writes bundle.json, model.onnx and text.onnx into dir; returns the manifest. */
    public ModelBundleManifest export(Path dir, String name, String version, String textBase, Map<String, String> training,
            Map<String, Double> metrics) {
        ModelBundleManifest manifest = ModelBundleManifest.newBuilder().setName(name).setVersion(version).setKind("image_encoder")
                .setOnnxFile("model.onnx").setInputName("pixels").setOutputName("embedding").setDimension(dimension)
                .setImage(preprocessing(imageSize)).setTextProjectionFile("text.onnx").setTextBaseEncoder(textBase)
                .putAllTraining(training).putAllMetrics(metrics).build();
        try {
            Files.createDirectories(dir);
            Files.write(dir.resolve("model.onnx"), OnnxGraphs.model(imageGraph(name)).toByteArray());
            Files.write(dir.resolve("text.onnx"), OnnxGraphs.model(textGraph(name)).toByteArray());
            ModelBundles.write(dir, manifest);
            return manifest;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Rewrites bundle.json with final metrics (known only after the exported model is evaluated). */
    public static void updateMetrics(Path dir, Map<String, Double> metrics) {
        ModelBundles.write(dir, ModelBundles.read(dir).toBuilder().putAllMetrics(metrics).build());
    }

    private GraphProto imageGraph(String name) {
        GraphProto.Builder g = GraphProto.newBuilder().setName(name + "-image")
                .addInput(OnnxGraphs.floatValue("pixels", -1, 1, imageSize, imageSize))
                .addOutput(OnnxGraphs.floatValue("embedding", -1, dimension));
        String x = "pixels";
        for (int i = 0; i < convs.size(); i++) {
            Tensor c = convs.get(i);
            g.addInitializer(OnnxGraphs.tensor("conv" + i + "_w", c.weight(), c.shape()));
            g.addInitializer(OnnxGraphs.tensor("conv" + i + "_b", c.bias(), c.bias().length));
            g.addNode(OnnxGraphs.node("Conv", List.of(x, "conv" + i + "_w", "conv" + i + "_b"), "conv" + i,
                    OnnxGraphs.ints("kernel_shape", 3, 3), OnnxGraphs.ints("pads", 1, 1, 1, 1)));
            g.addNode(OnnxGraphs.node("Relu", List.of("conv" + i), "relu" + i));
            g.addNode(OnnxGraphs.node("MaxPool", List.of("relu" + i), "pool" + i,
                    OnnxGraphs.ints("kernel_shape", 2, 2), OnnxGraphs.ints("strides", 2, 2)));
            x = "pool" + i;
        }
        g.addNode(OnnxGraphs.node("Flatten", List.of(x), "flat", OnnxGraphs.integer("axis", 1)));
        addGemm(g, "flat", "image_linear", imageLinear, "projected");
        OnnxGraphs.addL2Normalize(g, "projected", "embedding");
        return g.build();
    }

    private GraphProto textGraph(String name) {
        GraphProto.Builder g = GraphProto.newBuilder().setName(name + "-text")
                .addInput(OnnxGraphs.floatValue("text", -1, textLinear.shape()[1]))
                .addOutput(OnnxGraphs.floatValue("embedding", -1, dimension));
        addGemm(g, "text", "text_linear", textLinear, "projected");
        OnnxGraphs.addL2Normalize(g, "projected", "embedding");
        return g.build();
    }

    private static void addGemm(GraphProto.Builder g, String in, String name, Tensor t, String out) {
        g.addInitializer(OnnxGraphs.tensor(name + "_w", t.weight(), t.shape()));
        g.addInitializer(OnnxGraphs.tensor(name + "_b", t.bias(), t.bias().length));
        // DJL keeps a linear weight as [units, inputs]: transB
        g.addNode(OnnxGraphs.node("Gemm", List.of(in, name + "_w", name + "_b"), out, OnnxGraphs.integer("transB", 1)));
    }
}

package io.heterorag.model.image;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import io.heterorag.model.bundle.ModelBundles;
import io.heterorag.model.bundle.OnnxGraphs;
import io.heterorag.proto.v1.ImagePreprocessing;
import io.heterorag.proto.v1.ModelBundleManifest;

/**
 * The image encoder used until a trained ModCLIP bundle is configured: NOT a CLIP. It embeds an
 * image as its mean-centred 16×16 grayscale thumbnail (64×64 input, 4×4 average pooling), so it finds
 * visually similar images (same modality, plane, body region) and nothing semantic. The graph is
 * written by this class; no weights are downloaded.
 */
public final class BaselineImageBundle {

    public static final String NAME = "baseline-thumbnail";
    public static final String VERSION = "1";
    static final int SIZE = 64;
    static final int POOL = 4;

    private BaselineImageBundle() {
    }

    /** Writes the bundle into dir (bundle.json + model.onnx) unless it is already there; returns dir. */
    public static Path materialize(Path dir) {
        try {
            if (ModelBundles.exists(dir)) {
                return dir;
            }
            Files.createDirectories(dir);
            int side = SIZE / POOL;
            ModelBundleManifest manifest = ModelBundleManifest.newBuilder()
                    .setName(NAME).setVersion(VERSION).setKind("image_encoder")
                    .setOnnxFile("model.onnx").setInputName("pixels").setOutputName("embedding")
                    .setDimension(side * side)
                    .setImage(ImagePreprocessing.newBuilder().setSize(SIZE).setResize("squash").setChannels(1)
                            .addMean(0f).addStd(1f))
                    .putTraining("method", "none: fixed average-pooling graph, not trained")
                    .build();
            Files.write(dir.resolve("model.onnx"), graph().toByteArray());
            ModelBundles.write(dir, manifest);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ModelProto graph() {
        GraphProto.Builder g = GraphProto.newBuilder().setName(NAME)
                .addInput(OnnxGraphs.floatValue("pixels", -1, 1, SIZE, SIZE))
                .addOutput(OnnxGraphs.floatValue("embedding", -1, (SIZE / POOL) * (SIZE / POOL)))
                .addNode(OnnxGraphs.node("AveragePool", List.of("pixels"), "pooled",
                        OnnxGraphs.ints("kernel_shape", POOL, POOL), OnnxGraphs.ints("strides", POOL, POOL)))
                .addNode(OnnxGraphs.node("Flatten", List.of("pooled"), "flat", OnnxGraphs.integer("axis", 1)))
                .addNode(OnnxGraphs.node("ReduceMean", List.of("flat"), "mean", OnnxGraphs.ints("axes", 1)))
                .addNode(OnnxGraphs.node("Sub", List.of("flat", "mean"), "centred"));
        OnnxGraphs.addL2Normalize(g, "centred", "embedding");
        return OnnxGraphs.model(g.build());
    }
}

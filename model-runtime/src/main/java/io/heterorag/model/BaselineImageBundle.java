package io.heterorag.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
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
            if (Files.exists(dir.resolve("bundle.json"))) {
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
            Files.writeString(dir.resolve("bundle.json"), JsonFormat.printer().print(manifest));
            return dir;
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ModelProto graph() {
        GraphProto g = GraphProto.newBuilder().setName(NAME)
                .addInput(floatInput("pixels", -1, 1, SIZE, SIZE))
                .addOutput(floatInput("embedding", -1, (SIZE / POOL) * (SIZE / POOL)))
                .addInitializer(TensorProto.newBuilder().setName("eps").setDataType(TensorProto.DataType.FLOAT.getNumber())
                        .addFloatData(1e-6f))
                .addNode(node("AveragePool", List.of("pixels"), "pooled",
                        ints("kernel_shape", POOL, POOL), ints("strides", POOL, POOL)))
                .addNode(node("Flatten", List.of("pooled"), "flat", AttributeProto.newBuilder().setName("axis")
                        .setType(AttributeProto.AttributeType.INT).setI(1).build()))
                .addNode(node("ReduceMean", List.of("flat"), "mean", ints("axes", 1)))
                .addNode(node("Sub", List.of("flat", "mean"), "centred"))
                .addNode(node("ReduceL2", List.of("centred"), "norm", ints("axes", 1)))
                .addNode(node("Add", List.of("norm", "eps"), "safe_norm"))
                .addNode(node("Div", List.of("centred", "safe_norm"), "embedding"))
                .build();
        return ModelProto.newBuilder().setIrVersion(7).setProducerName("heterorag")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13)).setGraph(g).build();
    }

    private static NodeProto node(String op, List<String> in, String out, AttributeProto... attrs) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(out).addAllInput(in).addOutput(out);
        for (AttributeProto a : attrs) {
            n.addAttribute(a);
        }
        return n.build();
    }

    private static AttributeProto ints(String name, long... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    private static ValueInfoProto floatInput(String name, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long d : dims) {
            shape.addDim(d < 0 ? TensorShapeProto.Dimension.newBuilder().setDimParam("batch").build()
                    : TensorShapeProto.Dimension.newBuilder().setDimValue(d).build());
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT.getNumber()).setShape(shape))).build();
    }
}

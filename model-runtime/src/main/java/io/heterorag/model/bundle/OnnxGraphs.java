package io.heterorag.model.bundle;

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

/** Small helpers to write ONNX graphs (opset 13 unless chosen) from Java for the project's own models. */
public final class OnnxGraphs {

    private OnnxGraphs() {
    }

    public static ModelProto model(GraphProto graph) {
        return ModelProto.newBuilder().setIrVersion(7).setProducerName("heterorag")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13)).setGraph(graph).build();
    }

    /**
     * A model at a chosen opset (e.g. 17 for LayerNormalization); the IR version is the lowest that
     * opset needs, so older runtimes still load it.
     */
    public static ModelProto model(GraphProto graph, int opset) {
        int ir = opset <= 14 ? 7 : opset <= 18 ? 8 : 9;
        return ModelProto.newBuilder().setIrVersion(ir).setProducerName("heterorag")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(opset)).setGraph(graph).build();
    }

    public static NodeProto node(String op, List<String> in, String out, AttributeProto... attrs) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(out).addAllInput(in).addOutput(out);
        for (AttributeProto a : attrs) {
            n.addAttribute(a);
        }
        return n.build();
    }

    public static AttributeProto ints(String name, long... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    public static AttributeProto floating(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value).build();
    }

    public static AttributeProto integer(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    /** A float tensor value; a negative dimension is the symbolic batch dimension. */
    public static ValueInfoProto floatValue(String name, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long d : dims) {
            shape.addDim(d < 0 ? TensorShapeProto.Dimension.newBuilder().setDimParam("batch").build()
                    : TensorShapeProto.Dimension.newBuilder().setDimValue(d).build());
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT.getNumber()).setShape(shape))).build();
    }

    /**
     * A graph input or output of any element type; each dimension is a Number (fixed) or a String
     * (symbolic, e.g. "batch", "sequence").
     */
    public static ValueInfoProto value(String name, TensorProto.DataType type, Object... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            shape.addDim(d instanceof Number n ? TensorShapeProto.Dimension.newBuilder().setDimValue(n.longValue()).build()
                    : TensorShapeProto.Dimension.newBuilder().setDimParam(d.toString()).build());
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(type.getNumber()).setShape(shape))).build();
    }

    /** An int64 initializer (shapes, axes, indices); an empty shape makes a scalar. */
    public static TensorProto int64Tensor(String name, long[] values, long... dims) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64.getNumber());
        for (long d : dims) {
            t.addDims(d);
        }
        for (long v : values) {
            t.addInt64Data(v);
        }
        return t.build();
    }

    /** A float initializer (weights); an empty shape makes a scalar. */
    public static TensorProto tensor(String name, float[] values, long... dims) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT.getNumber());
        for (long d : dims) {
            t.addDims(d);
        }
        for (float v : values) {
            t.addFloatData(v);
        }
        return t.build();
    }

    /** A float initializer stored as little-endian raw bytes: compact and fast for large weights. */
    public static TensorProto rawTensor(String name, float[] values, long... dims) {
        java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(values.length * Float.BYTES).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT.getNumber())
                .setRawData(com.google.protobuf.ByteString.copyFrom(bytes.array()));
        for (long d : dims) {
            t.addDims(d);
        }
        return t.build();
    }

    /** Appends "L2-normalise rows of input into output" (ReduceL2 + epsilon + Div). */
    public static void addL2Normalize(GraphProto.Builder g, String input, String output) {
        g.addInitializer(tensor(output + "_eps", new float[] {1e-6f}));
        g.addNode(node("ReduceL2", List.of(input), output + "_norm", ints("axes", 1)));
        g.addNode(node("Add", List.of(output + "_norm", output + "_eps"), output + "_safe_norm"));
        g.addNode(node("Div", List.of(input, output + "_safe_norm"), output));
    }
}

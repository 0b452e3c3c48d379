package io.heterorag.model.bundle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.heterorag.proto.v1.ModelBundleManifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The graph-writing helpers produce models ONNX Runtime runs with the intended values; bundle.json round-trips. */
class OnnxGraphsTest {

    @TempDir
    Path dir;

    @Test
    void theIrVersionIsTheLowestTheOpsetNeeds() {
        GraphProto g = GraphProto.newBuilder().setName("g").build();
        assertEquals(7, OnnxGraphs.model(g).getIrVersion());
        assertEquals(13, OnnxGraphs.model(g).getOpsetImport(0).getVersion());
        assertEquals(7, OnnxGraphs.model(g, 14).getIrVersion());
        assertEquals(8, OnnxGraphs.model(g, 15).getIrVersion());
        assertEquals(8, OnnxGraphs.model(g, 18).getIrVersion());
        assertEquals(9, OnnxGraphs.model(g, 19).getIrVersion());
        assertEquals(17, OnnxGraphs.model(g, 17).getOpsetImport(0).getVersion());
    }

    @Test
    void rawInt64AndFloatAttributeHelpersRunInOnnxRuntime() throws Exception {
        // y = LeakyRelu(Reshape(x, [-1, 2]) · W, alpha 0.5), W = [[1, 2], [3, 4]] stored as raw little-endian bytes
        GraphProto g = GraphProto.newBuilder().setName("helpers")
                .addInput(OnnxGraphs.value("x", TensorProto.DataType.FLOAT, "batch", 4))
                .addOutput(OnnxGraphs.value("y", TensorProto.DataType.FLOAT, "rows", 2))
                .addInitializer(OnnxGraphs.int64Tensor("shape", new long[] {-1, 2}, 2))
                .addInitializer(OnnxGraphs.rawTensor("w", new float[] {1, 2, 3, 4}, 2, 2))
                .addNode(OnnxGraphs.node("Reshape", List.of("x", "shape"), "rows"))
                .addNode(OnnxGraphs.node("MatMul", List.of("rows", "w"), "product"))
                .addNode(OnnxGraphs.node("LeakyRelu", List.of("product"), "y", OnnxGraphs.floating("alpha", 0.5f)))
                .build();
        assertEquals("batch", g.getInput(0).getType().getTensorType().getShape().getDim(0).getDimParam());
        assertEquals(4, g.getInput(0).getType().getTensorType().getShape().getDim(1).getDimValue());
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession s = env.createSession(OnnxGraphs.model(g, 17).toByteArray(), new OrtSession.SessionOptions());
                OnnxTensor x = OnnxTensor.createTensor(env, new float[][] {{1, 0, 0, -1}});
                OrtSession.Result r = s.run(Map.of("x", x))) {
            // rows [[1, 0], [0, −1]] · W = [[1, 2], [−3, −4]] → LeakyRelu → [[1, 2], [−1.5, −2]]
            float[][] y = (float[][]) r.get(0).getValue();
            assertArrayEquals(new float[] {1, 2}, y[0], 0f);
            assertArrayEquals(new float[] {-1.5f, -2}, y[1], 0f);
        }
        // a negative dimension of floatValue is the symbolic batch
        var v = OnnxGraphs.floatValue("v", -1, 3).getType().getTensorType().getShape();
        assertEquals("batch", v.getDim(0).getDimParam());
        assertEquals(3, v.getDim(1).getDimValue());
        var zero = OnnxGraphs.floatValue("z", 0).getType().getTensorType().getShape().getDim(0);
        assertTrue(zero.hasDimValue(), "a zero dimension is a size, not the batch");
    }

    @Test
    void bundleManifestsRoundTripAndTheirKindIsChecked() throws Exception {
        Path b = dir.resolve("b");
        assertTrue(!ModelBundles.exists(b));
        ModelBundles.write(b, ModelBundleManifest.newBuilder().setName("n").setVersion("1").setKind("text_encoder").build());
        assertTrue(ModelBundles.exists(b));
        assertEquals("n", ModelBundles.read(b, "text_encoder").getName());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelBundles.read(b, "generator"));
        assertTrue(e.getMessage().endsWith("is a text_encoder, not a generator"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelBundles.read(b, "image_encoder"));
        assertTrue(e.getMessage().endsWith("not an image_encoder"), e.getMessage());
        Files.delete(b.resolve(ModelBundles.MANIFEST));
        Files.createDirectory(b.resolve(ModelBundles.MANIFEST));
        assertTrue(!ModelBundles.exists(b), "a directory named bundle.json is not a manifest");
    }
}

package io.heterorag.tuning.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.heterorag.model.generation.VlmConfig;
import io.heterorag.model.generation.VlmOnnxExport;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

/**
 * The network's masking and the trainer's targets, on a tiny randomly initialised network. A
 * @QuarkusTest only to share the application class loader (the native PyTorch library loads once per JVM).
 */
@QuarkusTest
class GeneratorNetworkTest {

    static final GeneratorNetwork.Dims DIMS = new GeneratorNetwork.Dims(40, 16, 2, 2, 32, 16, 8);
    static final int N = DIMS.imageTokens();

    @Test
    void parametersCarryTheContractsNamesAndShapes() {
        Map<String, long[]> contract = VlmOnnxExport.shapes(VlmConfig.llava(40, 16, 2, 2, 32, 16, 8, 4));
        Map<String, long[]> network = new GeneratorNetwork(DIMS).shapes();
        assertEquals(contract.keySet(), network.keySet());
        contract.forEach((name, shape) -> assertArrayEquals(shape, network.get(name), name));
    }

    @Test
    void rightPaddingAndLaterTokensDoNotChangeALogit() {
        Engine.getEngine("PyTorch").setRandomSeed(3);
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            GeneratorNetwork net = new GeneratorNetwork(DIMS);
            net.initialize(m, DataType.FLOAT32, new Shape(1, 3, 16, 16), new Shape(1, 4), new Shape(1, 4));
            int[] shortIds = ids(7, 8, 9);
            int[] longIds = ids(7, 8, 9, 10, 11, 12);
            float[] image = new float[3 * 16 * 16];
            for (int i = 0; i < image.length; i++) {
                image[i] = (float) Math.sin(i);
            }
            List<float[]> images = List.of(image);
            var a = new GeneratorTrainer.Sequence("a", shortIds, shortIds.length - 1, 0);
            var b = new GeneratorTrainer.Sequence("b", longIds, longIds.length - 1, 0);

            float[] alone = logits(net, m, List.of(a), images);
            float[] padded = logits(net, m, List.of(a, b), images);
            int v = DIMS.vocab();
            for (int i = 0; i < shortIds.length * v; i++) {
                assertEquals(alone[i], padded[i], 1e-5, "pad keys are masked: the short sequence's logits stay");
            }
            // b shares a's first tokens: causal masking keeps those positions' logits equal to a's
            int offset = longIds.length * v;
            for (int i = 0; i < shortIds.length * v; i++) {
                assertEquals(alone[i], padded[offset + i], 1e-5, "later tokens are not visible to earlier positions");
            }
        }
    }

    @Test
    void theLossLooksOnlyAtResponseTokensAndTheEos() {
        int[] ids = ids(7, 8, 20, 21, 3);
        var s = new GeneratorTrainer.Sequence("s", ids, N + 3, 0);
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDList in = GeneratorTrainer.inputs(m, List.of(s, new GeneratorTrainer.Sequence("t", ids(5, 6), N + 2, 0)),
                    List.of(new float[3 * 16 * 16]), 16);
            int t = ids.length;
            // the logits at position p predict token p + 1: response tokens 20, 21 and eos 3 of the first sequence, then
            // the second sequence's last token (row 1 of the padded batch)
            assertArrayEquals(new long[] {N + 2, N + 3, N + 4, t + N + 1}, in.get(3).toLongArray());
            assertArrayEquals(new long[] {20, 21, 3, 6}, in.get(4).toLongArray());
            assertArrayEquals(new long[] {1, 1, 0, 0}, Arrays.copyOfRange(in.get(2).toLongArray(), t + N + 1, t + N + 5),
                    "right padding is masked");
        }
    }

    @Test
    void theCopyLossSeesOnlyEachSequencesOwnTokens() {
        int vocab = 30;
        var s = new GeneratorTrainer.Sequence("s", ids(7, 8, 20, 21, 3), N + 3, 0); // 3 response rows: 20, 21, eos
        var t = new GeneratorTrainer.Sequence("t", ids(5, 6), N + 2, 0);             // 1 response row: 6
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray mask = GeneratorTrainer.ownTokens(m, List.of(s, t), vocab);
            assertArrayEquals(new long[] {4, vocab}, mask.getShape().getShape());
            float[] f = mask.toFloatArray();
            for (int row = 0; row < 4; row++) {
                java.util.Set<Integer> own = row < 3 ? java.util.Set.of(2, 4, 7, 8, 20, 21, 3) : java.util.Set.of(2, 4, 5, 6);
                for (int id = 0; id < vocab; id++) {
                    assertEquals(own.contains(id) ? 0f : -1e4f, f[row * vocab + id], "row " + row + ", token " + id);
                }
            }
            // with the mask, a label among the sequence's own tokens loses less than without: the other tokens' mass is gone
            NDArray logits = m.zeros(new Shape(4, vocab));
            NDArray labels = m.create(new long[] {20, 21, 3, 6});
            float plain = GeneratorNetwork.loss(logits, labels).getFloat();
            float copy = GeneratorNetwork.loss(logits.add(mask), labels).getFloat();
            assertEquals(Math.log(vocab), plain, 1e-4);
            assertEquals((3 * Math.log(7) + Math.log(4)) / 4, copy, 1e-4);
        }
    }

    @Test
    void copyLossTrainingOnFullSizeBatchesIsReproducible() {
        // batches the size of the MQG job's (32 sequences of ~280 tokens, a 3,638-token vocabulary: a 6 MB copy-loss mask);
        // the mask made inside the gradient collector gave garbage gradients on every other step, different from run to run
        GeneratorNetwork.Dims dims = new GeneratorNetwork.Dims(3638, 128, 2, 4, 320, 64, 64);
        Random rnd = new Random(1);
        List<GeneratorTrainer.Sequence> seqs = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            int[] ids = new int[260 + rnd.nextInt(30)];
            for (int j = 0; j < ids.length; j++) {
                ids[j] = 5 + rnd.nextInt(3600);
            }
            seqs.add(new GeneratorTrainer.Sequence("s" + i, ids, ids.length - 12, 0));
        }
        GeneratorTrainer.Data data = new GeneratorTrainer.Data(seqs, List.of(new float[3 * 64 * 64]), true);
        GeneratorTrainer.Config cfg = new GeneratorTrainer.Config(3, 32, 1e-3f, 7);
        GeneratorTrainer.Trained a = GeneratorTrainer.train(data, List.of(), dims, cfg, p -> { });
        GeneratorTrainer.Trained b = GeneratorTrainer.train(data, List.of(), dims, cfg, p -> { });
        // equal up to the order of multithreaded float sums (measured: 6e-7 in one weight); the garbage steps gave losses 0.1-0.5 apart
        for (int e = 0; e < 3; e++) {
            assertEquals(a.epochLosses().get(e), b.epochLosses().get(e), 1e-3, "the same data and seed give the same losses: "
                    + a.epochLosses() + " " + b.epochLosses());
        }
        a.weights().forEach((name, w) -> assertArrayEquals(w, b.weights().get(name), 1e-4f, name));
        assertTrue(a.epochLosses().get(2) < a.epochLosses().get(0), "it learns: " + a.epochLosses());
    }

    /** [bos] + image tokens + text ids. */
    private static int[] ids(int... text) {
        int[] ids = new int[1 + N + text.length];
        ids[0] = 2;
        Arrays.fill(ids, 1, 1 + N, 4);
        System.arraycopy(text, 0, ids, 1 + N, text.length);
        return ids;
    }

    private static float[] logits(GeneratorNetwork net, NDManager m, List<GeneratorTrainer.Sequence> seqs, List<float[]> images) {
        NDList in = GeneratorTrainer.inputs(m, seqs, images, 16);
        return net.forward(new ParameterStore(m, false), new NDList(in.get(0), in.get(1), in.get(2)), false).head().toFloatArray();
    }
}

package io.heterorag.tuning.training;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;

/**
 * Contrastive training of a ModCLIP on one modality's image–report pairs (symmetric InfoNCE with a
 * learnable temperature, in-batch negatives), on CPU with DJL's PyTorch engine. Images arrive as the
 * bundle's input tensor (the serving preprocessing), reports as frozen MiniLM embeddings.
 */
public final class ModClipTrainer {

    /** Hyper-parameters. */
    public record Config(int epochs, int batchSize, float learningRate, int imageSize, int dimension, long seed) {
    }

    /** Training data: pixels (N × 1 × size × size, row-major) and base text embeddings (N × d). */
    public record Data(float[] pixels, float[][] text) {
        int size() {
            return text.length;
        }
    }

    /**
     * The trained network's weights (exportable to ONNX), the loss curve (mean loss per epoch) and the
     * network's own image embeddings of the first pairs, to check the export against.
     */
    public record Trained(ModClipWeights weights, List<Float> epochLosses, float[][] sampleEmbeddings, int sampleCount) {
    }

    static final int PARITY_SAMPLES = 8;

    private ModClipTrainer() {
    }

    public static Trained train(Data data, Config cfg, Consumer<String> progress) {
        int n = data.size();
        if (n < 2) {
            throw new IllegalArgumentException("need at least 2 image–report pairs, got " + n);
        }
        int batch = Math.min(cfg.batchSize(), n);
        int side = cfg.imageSize();
        int textDim = data.text()[0].length;
        Engine.getEngine("PyTorch").setRandomSeed((int) cfg.seed());
        ModClipNetwork net = new ModClipNetwork(cfg.dimension());
        try (Model model = Model.newInstance("modclip", "PyTorch")) {
            model.setBlock(net);
            // the loss is computed by hand below; the config still wants one
            DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.l2Loss())
                    .optOptimizer(Optimizer.adam().optLearningRateTracker(Tracker.fixed(cfg.learningRate())).build());
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(new Shape(batch, 1, side, side), new Shape(batch, textDim));
                NDManager manager = trainer.getManager();
                List<Integer> order = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    order.add(i);
                }
                Random rnd = new Random(cfg.seed());
                List<Float> losses = new ArrayList<>();
                int plane = side * side;
                for (int epoch = 1; epoch <= cfg.epochs(); epoch++) {
                    Collections.shuffle(order, rnd);
                    double sum = 0;
                    int steps = 0;
                    // a last batch of one has no negatives: it is dropped
                    for (int start = 0; start + 2 <= n; start += batch) {
                        int b = Math.min(batch, n - start);
                        float[] px = new float[b * plane];
                        float[] tx = new float[b * textDim];
                        for (int j = 0; j < b; j++) {
                            int idx = order.get(start + j);
                            augment(data.pixels(), idx * plane, px, j * plane, side, rnd);
                            System.arraycopy(data.text()[idx], 0, tx, j * textDim, textDim);
                        }
                        try (NDManager step = manager.newSubManager()) {
                            NDArray images = step.create(px, new Shape(b, 1, side, side));
                            NDArray texts = step.create(tx, new Shape(b, textDim));
                            try (GradientCollector gc = trainer.newGradientCollector()) {
                                NDList out = trainer.forward(new NDList(images, texts));
                                NDArray loss = infoNce(out.get(0), out.get(1), out.get(2));
                                sum += loss.getFloat();
                                gc.backward(loss);
                            }
                            trainer.step();
                        }
                        steps++;
                    }
                    float mean = (float) (sum / steps);
                    losses.add(mean);
                    progress.accept(String.format("epoch %d/%d, loss %.4f", epoch, cfg.epochs(), mean));
                }
                int k = Math.min(PARITY_SAMPLES, n);
                float[] px = java.util.Arrays.copyOf(data.pixels(), k * plane);
                float[] tx = new float[k * textDim];
                for (int j = 0; j < k; j++) {
                    System.arraycopy(data.text()[j], 0, tx, j * textDim, textDim);
                }
                float[][] sample;
                try (NDManager step = manager.newSubManager()) {
                    NDList out = trainer.evaluate(new NDList(step.create(px, new Shape(k, 1, side, side)),
                            step.create(tx, new Shape(k, textDim))));
                    float[] flat = out.get(0).toFloatArray();
                    sample = new float[k][];
                    for (int j = 0; j < k; j++) {
                        sample[j] = java.util.Arrays.copyOfRange(flat, j * cfg.dimension(), (j + 1) * cfg.dimension());
                    }
                }
                return new Trained(ModClipWeights.of(net, cfg.dimension(), side), losses, sample, k);
            }
        }
    }

    /**
     * Copies one image with a random horizontal flip and a random shift of up to 1/8 of the side
     * (uncovered pixels take the image's darkest value): ~1,600 pairs overfit a CNN within a few
     * epochs without it.
     */
    static void augment(float[] src, int from, float[] dst, int to, int side, Random rnd) {
        boolean flip = rnd.nextBoolean();
        int max = side / 8;
        int dx = rnd.nextInt(2 * max + 1) - max;
        int dy = rnd.nextInt(2 * max + 1) - max;
        float fill = Float.MAX_VALUE;
        for (int i = 0; i < side * side; i++) {
            fill = Math.min(fill, src[from + i]);
        }
        for (int y = 0; y < side; y++) {
            for (int x = 0; x < side; x++) {
                int sx = (flip ? side - 1 - x : x) - dx;
                int sy = y - dy;
                dst[to + y * side + x] = sx >= 0 && sx < side && sy >= 0 && sy < side ? src[from + sy * side + sx] : fill;
            }
        }
    }

    /** Symmetric cross-entropy over image→text and text→image similarities; the diagonal is the match. */
    static NDArray infoNce(NDArray img, NDArray txt, NDArray logScale) {
        long b = img.getShape().get(0);
        NDArray logits = img.matMul(txt.transpose()).mul(logScale.exp().clip(0, 100));
        NDArray eye = img.getManager().eye((int) b);
        NDArray i2t = logits.logSoftmax(1).mul(eye).sum(new int[] {1}).neg().mean();
        NDArray t2i = logits.transpose().logSoftmax(1).mul(eye).sum(new int[] {1}).neg().mean();
        return i2t.add(t2i).div(2);
    }

    /** The path a bundle for this modality and version is written to under the models directory. */
    public static Path bundleDir(Path modelsDir, String name, String version) {
        return modelsDir.resolve(name + "-" + version);
    }
}

package io.heterorag.tuning.training;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
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
 * Trains the platform's VLM ({@link GeneratorNetwork}) on tokenised examples with teacher forcing:
 * cross-entropy on the response tokens and the eos only, Adam, batches padded on the right, on CPU
 * with DJL's PyTorch engine. Sequences arrive laid out exactly as the runtime lays out a request.
 */
public final class GeneratorTrainer {

    /** Hyper-parameters (the architecture's sizes are in {@link GeneratorNetwork.Dims}). */
    public record Config(int epochs, int batchSize, float learningRate, long seed) {
    }

    /**
     * One training sequence: input ids as the runtime builds them ([bos], image tokens, prompt,
     * response, eos), where the response starts, and which image (index into {@link Data#images}).
     */
    public record Sequence(String id, int[] ids, int responseStart, int image) {
        public Sequence {
            if (responseStart < 1 || responseStart >= ids.length) {
                throw new IllegalArgumentException("sequence " + id + ": the response must follow the prompt");
            }
        }
    }

    /** Sequences and the preprocessed images they point at (each [3, S, S], row-major). */
    /**
     * @param copyLoss add a second cross-entropy over only the tokens of each sequence (its prompt, its
     *                 response, eos): a model decoded under a copy constraint chooses among the prompt's
     *                 words, so it must learn which of them to write, not how often a word is written at
     *                 all (the plain loss alone teaches the most frequent target words, e.g. "pain")
     */
    public record Data(List<Sequence> sequences, List<float[]> images, boolean copyLoss) {
        public Data(List<Sequence> sequences, List<float[]> images) {
            this(sequences, images, false);
        }
    }

    /**
     * The trained weights under the contract's names, the loss per epoch, the network's own logits
     * for the first few sequences (to check the export against) and the measured time per batch.
     */
    public record Trained(Map<String, float[]> weights, Map<String, long[]> shapes, List<Float> epochLosses,
            List<Sequence> paritySequences, List<float[][]> parityLogits, double msPerBatch, int steps) {
    }

    static final int PARITY_SAMPLES = 3;

    private GeneratorTrainer() {
    }

    /**
     * Trains on the data and returns the weights with the network's logits for {@code parity}
     * (sequences of the data, to check the export against).
     */
    public static Trained train(Data data, List<Sequence> parity, GeneratorNetwork.Dims dims, Config cfg, Consumer<String> progress) {
        List<Sequence> seqs = data.sequences();
        int n = seqs.size();
        if (n < 1) {
            throw new IllegalArgumentException("no training sequences");
        }
        for (Sequence s : seqs) {
            if (s.ids().length > dims.context()) {
                throw new IllegalArgumentException("sequence " + s.id() + " has " + s.ids().length + " tokens, over the context "
                        + dims.context());
            }
        }
        int batch = Math.min(cfg.batchSize(), n);
        Engine.getEngine("PyTorch").setRandomSeed((int) cfg.seed());
        GeneratorNetwork net = new GeneratorNetwork(dims);
        try (Model model = Model.newInstance("heterorag-vlm", "PyTorch")) {
            model.setBlock(net);
            // the loss is computed by hand below; the config still wants one
            DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.l2Loss())
                    // gradients clipped element-wise: an unclipped step at the default rate has sent a run to NaN
                    .optOptimizer(Optimizer.adam().optLearningRateTracker(Tracker.fixed(cfg.learningRate())).optClipGrad(1f).build());
            try (Trainer trainer = model.newTrainer(config)) {
                int side = dims.imageSize();
                trainer.initialize(new Shape(1, 3, side, side), new Shape(1, dims.imageTokens() + 2),
                        new Shape(1, dims.imageTokens() + 2));
                NDManager manager = trainer.getManager();
                List<Integer> order = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    order.add(i);
                }
                Random rnd = new Random(cfg.seed());
                List<Float> losses = new ArrayList<>();
                int stepsPerEpoch = (n + batch - 1) / batch;
                long trainNanos = 0;
                int steps = 0;
                for (int epoch = 1; epoch <= cfg.epochs(); epoch++) {
                    Collections.shuffle(order, rnd);
                    double sum = 0;
                    int epochSteps = 0;
                    for (int start = 0; start < n; start += batch) {
                        List<Sequence> part = new ArrayList<>();
                        for (int j = start; j < Math.min(n, start + batch); j++) {
                            part.add(seqs.get(order.get(j)));
                        }
                        long t0 = System.nanoTime();
                        try (NDManager step = manager.newSubManager()) {
                            NDList in = inputs(step, part, data.images(), side);
                            // every array made from Java data exists before the gradient collector opens: the copy-loss
                            // mask made inside it gave gradients of 1e16-1e32 on every other step and a NaN loss in two epochs
                            NDArray own = data.copyLoss() ? ownTokens(step, part, dims.vocab()) : null;
                            try (GradientCollector gc = trainer.newGradientCollector()) {
                                NDArray logits = trainer.forward(new NDList(in.get(0), in.get(1), in.get(2), in.get(3))).head();
                                NDArray loss = GeneratorNetwork.loss(logits, in.get(4));
                                if (data.copyLoss()) {
                                    loss = loss.add(GeneratorNetwork.loss(logits.add(own), in.get(4)));
                                }
                                float value = loss.getFloat();
                                if (!Float.isFinite(value)) {
                                    throw new IllegalStateException(String.format("training diverged: loss %s at epoch %d, step %d "
                                            + "(a lower learning_rate than %s may help)", value, epoch, epochSteps + 1, cfg.learningRate()));
                                }
                                sum += value;
                                gc.backward(loss);
                            }
                            trainer.step();
                        }
                        trainNanos += System.nanoTime() - t0;
                        steps++;
                        epochSteps++;
                        if (epochSteps % 10 == 0 || epochSteps == stepsPerEpoch) {
                            progress.accept(String.format("epoch %d/%d, step %d/%d, loss %.3f", epoch, cfg.epochs(), epochSteps,
                                    stepsPerEpoch, sum / epochSteps));
                        }
                    }
                    losses.add((float) (sum / epochSteps));
                }
                List<float[][]> logits = new ArrayList<>();
                for (Sequence s : parity) {
                    try (NDManager step = manager.newSubManager()) {
                        NDList in = inputs(step, List.of(s), data.images(), side);
                        logits.add(rows(trainer.evaluate(new NDList(in.get(0), in.get(1), in.get(2))).head().toFloatArray(),
                                s.ids().length, dims.vocab()));
                    }
                }
                return new Trained(net.weights(), net.shapes(), losses, List.copyOf(parity), logits, trainNanos / 1e6 / steps,
                        steps);
            }
        }
    }

    /**
     * pixel_values [B, 3, S, S], input_ids and attention_mask [B, T] (right padding with 0), the flat
     * positions whose logits predict a response token or the eos, and those tokens.
     */
    static NDList inputs(NDManager m, List<Sequence> part, List<float[]> images, int side) {
        int b = part.size();
        int t = part.stream().mapToInt(s -> s.ids().length).max().orElseThrow();
        int plane = 3 * side * side;
        float[] px = new float[b * plane];
        long[] ids = new long[b * t];
        long[] mask = new long[b * t];
        List<Long> picks = new ArrayList<>();
        List<Long> labels = new ArrayList<>();
        for (int i = 0; i < b; i++) {
            Sequence s = part.get(i);
            System.arraycopy(images.get(s.image()), 0, px, i * plane, plane);
            for (int j = 0; j < s.ids().length; j++) {
                ids[i * t + j] = s.ids()[j];
                mask[i * t + j] = 1;
                if (j >= s.responseStart()) {
                    picks.add((long) i * t + j - 1);
                    labels.add((long) s.ids()[j]);
                }
            }
        }
        return new NDList(m.create(px, new Shape(b, 3, side, side)), m.create(ids, new Shape(b, t)),
                m.create(mask, new Shape(b, t)), m.create(picks.stream().mapToLong(Long::longValue).toArray()),
                m.create(labels.stream().mapToLong(Long::longValue).toArray()));
    }

    /** Per picked position [M, V]: 0 for the tokens of its sequence, -1e4 for every other token (in the order of {@link #inputs}' picks). */
    static NDArray ownTokens(NDManager m, List<Sequence> part, int vocab) {
        int rows = part.stream().mapToInt(s -> s.ids().length - s.responseStart()).sum();
        float[] mask = new float[rows * vocab];
        Arrays.fill(mask, -1e4f);
        int row = 0;
        for (Sequence s : part) {
            for (int r = 0; r < s.ids().length - s.responseStart(); r++, row++) {
                for (int id : s.ids()) {
                    mask[row * vocab + id] = 0;
                }
            }
        }
        return m.create(mask, new Shape(rows, vocab));
    }

    private static float[][] rows(float[] flat, int t, int v) {
        float[][] out = new float[t][];
        for (int i = 0; i < t; i++) {
            out[i] = Arrays.copyOfRange(flat, i * v, (i + 1) * v);
        }
        return out;
    }
}

package io.heterorag.tuning.training;

import java.util.ArrayList;
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
 * Direct preference optimisation (sigmoid form) of the platform's VLM, starting from a served
 * generator's weights: for a pair (chosen side w, rejected side l, each with its own image and
 * prompt), loss = −log σ(β[(log πθ(y_w|x_w) − log π_ref(y_w|x_w)) − (log πθ(y_l|x_l) − log π_ref(y_l|x_l))]),
 * log π the sum of the response tokens' and eos's log-softmax. The reference is frozen: its
 * log-probabilities come with the pairs (computed once by the runtime's {@code logProb}).
 */
public final class DpoTrainer {

    /** Hyper-parameters; β scales the implicit reward. */
    public record Config(int epochs, int batchSize, float learningRate, float beta, long seed) {
    }

    /** One pair laid out for training: both sides as runtime-laid-out sequences and their frozen reference log-probabilities. */
    public record Pair(String id, GeneratorTrainer.Sequence chosen, GeneratorTrainer.Sequence rejected, double refChosen,
            double refRejected) {
    }

    /** Figures of one epoch, averaged over its batches: loss, reward margin, share of pairs whose chosen reward beats the rejected. */
    public record Epoch(int epoch, double loss, double margin, double accuracy) {
    }

    /**
     * The trained weights, the figures per epoch, the largest difference between the starting
     * policy's log-probabilities and the reference's (the load path checked against the runtime),
     * and the network's logits for {@code parity} sequences to check the export against.
     */
    public record Trained(Map<String, float[]> weights, List<Epoch> epochs, double startMaxAbsDiff, List<float[][]> parityLogits,
            double msPerBatch) {
    }

    /** Largest difference allowed between the loaded policy's and the runtime's log-probability of a side before training. */
    static final double START_TOLERANCE = 1e-3;

    private DpoTrainer() {
    }

    /** The loss of one pair from the four log-probabilities (the formula the batched loss computes). */
    public static double loss(double policyChosen, double refChosen, double policyRejected, double refRejected, double beta) {
        double z = beta * ((policyChosen - refChosen) - (policyRejected - refRejected));
        return softplus(-z);
    }

    private static double softplus(double x) {
        return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
    }

    /** Per-pair β-scaled reward differences z [B]; loss = mean softplus(−z) = mean −log σ(z). */
    static NDArray rewardDifference(NDArray policyChosen, NDArray policyRejected, NDArray refChosen, NDArray refRejected, float beta) {
        return policyChosen.sub(refChosen).sub(policyRejected.sub(refRejected)).mul(beta);
    }

    static NDArray loss(NDArray z) {
        NDArray x = z.neg();
        return x.maximum(0).add(x.abs().neg().exp().add(1).log()).mean();
    }

    /** Trains from {@code start} (named weights of the served generator) on the pairs. */
    public static Trained train(List<Pair> pairs, List<float[]> images, Map<String, float[]> start, GeneratorNetwork.Dims dims,
            Config cfg, List<GeneratorTrainer.Sequence> parity, Consumer<String> progress) {
        if (pairs.isEmpty()) {
            throw new IllegalArgumentException("no preference pairs to train on");
        }
        int batch = Math.min(cfg.batchSize(), pairs.size());
        Engine.getEngine("PyTorch").setRandomSeed((int) cfg.seed());
        GeneratorNetwork net = new GeneratorNetwork(dims);
        try (Model model = Model.newInstance("heterorag-vlm-dpo", "PyTorch")) {
            model.setBlock(net);
            DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.l2Loss()) // the loss is computed by hand below
                    .optOptimizer(Optimizer.adam().optLearningRateTracker(Tracker.fixed(cfg.learningRate())).build());
            try (Trainer trainer = model.newTrainer(config)) {
                int side = dims.imageSize();
                trainer.initialize(new Shape(1, 3, side, side), new Shape(1, dims.imageTokens() + 2), new Shape(1, dims.imageTokens() + 2));
                net.load(start);
                NDManager manager = trainer.getManager();
                double startDiff = startDiff(trainer, manager, pairs.subList(0, Math.min(pairs.size(), batch)), images, side);
                if (!(startDiff <= START_TOLERANCE)) {
                    throw new IllegalStateException("the loaded network's log-probabilities differ from the runtime's by " + startDiff
                            + ": the weights were not loaded as served");
                }
                List<Pair> order = new ArrayList<>(pairs);
                Random rnd = new Random(cfg.seed());
                List<Epoch> epochs = new ArrayList<>();
                int stepsPerEpoch = (pairs.size() + batch - 1) / batch;
                long nanos = 0;
                int steps = 0;
                for (int epoch = 1; epoch <= cfg.epochs(); epoch++) {
                    Collections.shuffle(order, rnd);
                    double loss = 0;
                    double margin = 0;
                    double wins = 0;
                    int step = 0;
                    for (int s = 0; s < order.size(); s += batch) {
                        List<Pair> part = order.subList(s, Math.min(order.size(), s + batch));
                        long t0 = System.nanoTime();
                        try (NDManager m = manager.newSubManager()) {
                            // the arrays made from Java data exist before the gradient collector opens (GeneratorTrainer says why)
                            Batch in = batch(m, part, images, side);
                            NDArray refChosen = refs(m, part, true);
                            NDArray refRejected = refs(m, part, false);
                            try (GradientCollector gc = trainer.newGradientCollector()) {
                                NDArray[] lp = logProbs(trainer, in, true);
                                NDArray z = rewardDifference(lp[0], lp[1], refChosen, refRejected, cfg.beta());
                                NDArray l = loss(z);
                                float[] zs = z.toFloatArray();
                                float value = l.getFloat();
                                if (!Float.isFinite(value)) {
                                    throw new IllegalStateException(String.format("dpo diverged: loss %s at epoch %d, step %d (a lower "
                                            + "learning_rate or beta may help)", value, epoch, step + 1));
                                }
                                loss += value * part.size();
                                for (float v : zs) {
                                    margin += v;
                                    wins += v > 0 ? 1 : 0;
                                }
                                gc.backward(l);
                            }
                            trainer.step();
                        }
                        nanos += System.nanoTime() - t0;
                        steps++;
                        step++;
                        if (step % 10 == 0 || step == stepsPerEpoch) {
                            progress.accept(String.format("dpo epoch %d/%d, step %d/%d, loss %.4f", epoch, cfg.epochs(), step, stepsPerEpoch,
                                    loss / Math.min(order.size(), s + batch)));
                        }
                    }
                    Epoch e = new Epoch(epoch, loss / order.size(), margin / order.size(), wins / order.size());
                    epochs.add(e);
                    progress.accept(String.format("dpo epoch %d/%d: loss %.4f, reward margin %.4f, chosen beats rejected %.3f", epoch,
                            cfg.epochs(), e.loss(), e.margin(), e.accuracy()));
                }
                List<float[][]> logits = new ArrayList<>();
                for (GeneratorTrainer.Sequence q : parity) {
                    try (NDManager m = manager.newSubManager()) {
                        NDList in = GeneratorTrainer.inputs(m, List.of(q), images, side);
                        float[] flat = trainer.evaluate(new NDList(in.get(0), in.get(1), in.get(2))).head().toFloatArray();
                        float[][] rows = new float[q.ids().length][];
                        for (int t = 0; t < rows.length; t++) {
                            rows[t] = java.util.Arrays.copyOfRange(flat, t * dims.vocab(), (t + 1) * dims.vocab());
                        }
                        logits.add(rows);
                    }
                }
                return new Trained(net.weights(), epochs, startDiff, logits, nanos / 1e6 / Math.max(1, steps));
            }
        }
    }

    /** One padded batch of 2B sequences (the chosen sides, then the rejected) and the matrix that sums each one's response tokens. */
    record Batch(int pairs, NDList inputs, NDArray segments) {
    }

    static Batch batch(NDManager m, List<Pair> part, List<float[]> images, int side) {
        int b = part.size();
        List<GeneratorTrainer.Sequence> seqs = new ArrayList<>();
        part.forEach(p -> seqs.add(p.chosen()));
        part.forEach(p -> seqs.add(p.rejected()));
        NDList in = GeneratorTrainer.inputs(m, seqs, images, side);
        // the picks are in sequence order: a [2B, M] 0/1 matrix sums each sequence's response tokens
        int picks = seqs.stream().mapToInt(q -> q.ids().length - q.responseStart()).sum();
        float[] seg = new float[2 * b * picks];
        int k = 0;
        for (int i = 0; i < seqs.size(); i++) {
            GeneratorTrainer.Sequence q = seqs.get(i);
            for (int j = q.responseStart(); j < q.ids().length; j++) {
                seg[i * picks + k++] = 1f;
            }
        }
        return new Batch(b, in, m.create(seg, new Shape(2L * b, picks)));
    }

    /** The policy's log-probabilities [B] of the chosen and the rejected sides. */
    static NDArray[] logProbs(Trainer trainer, Batch batch, boolean training) {
        NDList in = batch.inputs();
        NDList args = new NDList(in.get(0), in.get(1), in.get(2), in.get(3));
        NDArray logits = training ? trainer.forward(args).head() : trainer.evaluate(args).head();
        NDArray tokenLp = logits.logSoftmax(-1).gather(in.get(4).expandDims(-1), 1).reshape(-1);
        int b = batch.pairs();
        NDArray sums = batch.segments().matMul(tokenLp.reshape(-1, 1)).reshape(2L * b);
        return new NDArray[] {sums.get("0:" + b), sums.get(b + ":")};
    }

    private static NDArray refs(NDManager m, List<Pair> part, boolean chosen) {
        float[] v = new float[part.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (chosen ? part.get(i).refChosen() : part.get(i).refRejected());
        }
        return m.create(v);
    }

    /** Before any step: the loaded policy's log-probabilities against the runtime's reference ones (should be equal). */
    private static double startDiff(Trainer trainer, NDManager manager, List<Pair> part, List<float[]> images, int side) {
        try (NDManager m = manager.newSubManager()) {
            NDArray[] lp = logProbs(trainer, batch(m, part, images, side), false);
            float[] c = lp[0].toFloatArray();
            float[] r = lp[1].toFloatArray();
            double max = 0;
            for (int i = 0; i < part.size(); i++) {
                max = Math.max(max, Math.abs(c[i] - part.get(i).refChosen()));
                max = Math.max(max, Math.abs(r[i] - part.get(i).refRejected()));
            }
            return max;
        }
    }
}

package io.heterorag.tuning.training;

import java.util.LinkedHashMap;
import java.util.Map;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.ConstantInitializer;
import ai.djl.training.initializer.Initializer;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.training.initializer.XavierInitializer;
import ai.djl.util.PairList;

/**
 * The platform's VLM (docs/generator.md, "heterorag-vlm"): a conv vision tower with a two-layer
 * projector, a token embedding with learned positions, a pre-LayerNorm decoder and an lm_head. Every
 * parameter is this block's own and carries the contract's name ("decoder.layers.0.attn.q.weight"),
 * and every linear weight is stored [in, out], so the weights go to the ONNX export unchanged.
 *
 * <p>Forward runs full sequences only (training needs no KV cache). Inputs: pixel_values [B, 3, S, S],
 * input_ids int64 [B, T] laid out as the runtime does ([bos], then the N image tokens, then text),
 * attention_mask int64 [B, T] (1 = real token, right padding), and optionally picks int64 [M], flat
 * indices (b·T + t) of the positions whose logits are wanted. Output: logits [B, T, V], or [M, V] for
 * the picked positions: training needs only the positions before response tokens, and the full
 * [B, T, V] product costs most of a step when the prompt carries retrieved evidence.
 */
final class GeneratorNetwork extends AbstractBlock {

    /** Conv channels of the vision tower before the last block's {@code visionChannels}. */
    static final int[] CHANNELS = {32, 64, 64};

    /** Score of a key a query may not see: replaced with Where, as in the exported graph. */
    static final float MASKED = -1e9f;

    static final float LN_EPS = 1e-5f;

    /** The architecture's sizes (docs/generator.md defaults: hidden 128, layers 2, heads 4, context 320, image 64). */
    record Dims(int vocab, int hidden, int layers, int heads, int context, int imageSize, int visionChannels) {
        Dims {
            if (hidden % heads != 0) {
                throw new IllegalArgumentException("hidden " + hidden + " is not a multiple of heads " + heads);
            }
            if (imageSize < 16 || imageSize % 16 != 0) {
                throw new IllegalArgumentException("image_size must be a multiple of 16, not " + imageSize);
            }
        }

        /** Image tokens per image: the tower halves the side four times. */
        int imageTokens() {
            return (imageSize / 16) * (imageSize / 16);
        }
    }

    final Dims dims;
    private final Map<String, Parameter> params = new LinkedHashMap<>();

    GeneratorNetwork(Dims dims) {
        super((byte) 1);
        this.dims = dims;
        int h = dims.hidden();
        int[] chans = {3, CHANNELS[0], CHANNELS[1], CHANNELS[2], dims.visionChannels()};
        for (int i = 0; i < 4; i++) {
            param("vision.conv" + i + ".weight", new XavierInitializer(), chans[i + 1], chans[i], 3, 3);
            param("vision.conv" + i + ".bias", zeros(), chans[i + 1]);
        }
        param("vision.proj1.weight", normal(), dims.visionChannels(), h);
        param("vision.proj1.bias", zeros(), h);
        param("vision.proj2.weight", normal(), h, h);
        param("vision.proj2.bias", zeros(), h);
        param("embed.weight", normal(), dims.vocab(), h);
        param("decoder.pos", normal(), dims.context(), h);
        for (int l = 0; l < dims.layers(); l++) {
            String p = "decoder.layers." + l + ".";
            param(p + "ln1.weight", ones(), h);
            param(p + "ln1.bias", zeros(), h);
            for (String m : new String[] {"q", "k", "v", "o"}) {
                param(p + "attn." + m + ".weight", normal(), h, h);
                param(p + "attn." + m + ".bias", zeros(), h);
            }
            param(p + "ln2.weight", ones(), h);
            param(p + "ln2.bias", zeros(), h);
            param(p + "mlp.fc1.weight", normal(), h, 4 * h);
            param(p + "mlp.fc1.bias", zeros(), 4 * h);
            param(p + "mlp.fc2.weight", normal(), 4 * h, h);
            param(p + "mlp.fc2.bias", zeros(), h);
        }
        param("decoder.ln_f.weight", ones(), h);
        param("decoder.ln_f.bias", zeros(), h);
        param("lm_head.weight", normal(), h, dims.vocab());
    }

    // GPT-2's initialisation: small normal weights keep the initial loss near log(V)
    private static Initializer normal() {
        return new NormalInitializer(0.02f);
    }

    private static Initializer zeros() {
        return new ConstantInitializer(0f);
    }

    private static Initializer ones() {
        return new ConstantInitializer(1f);
    }

    private void param(String name, Initializer init, long... shape) {
        Parameter p = addParameter(Parameter.builder().setName(name).setType(Parameter.Type.OTHER).optShape(new Shape(shape))
                .optInitializer(init).build());
        params.put(name, p);
    }

    private NDArray p(String name, ParameterStore ps, NDArray device, boolean training) {
        return ps.getValue(params.get(name), device.getDevice(), training);
    }

    /** The weights under the contract's names, row-major, for {@code VlmOnnxExport}. */
    Map<String, float[]> weights() {
        Map<String, float[]> out = new LinkedHashMap<>();
        params.forEach((name, p) -> out.put(name, p.getArray().toFloatArray()));
        return out;
    }

    /**
     * Sets every parameter from named weights (the load path: continue training a served generator,
     * read by {@link VlmBundleWeights}). Call after the block is initialised; a missing or mis-sized
     * weight is refused, naming it.
     */
    void load(Map<String, float[]> weights) {
        params.forEach((name, p) -> {
            float[] w = weights.get(name);
            long size = p.getArray().getShape().size();
            if (w == null || w.length != size) {
                throw new IllegalArgumentException("weight " + name + ": " + (w == null ? "missing" : w.length + " values")
                        + ", the network has " + size);
            }
            p.getArray().set(java.nio.FloatBuffer.wrap(w));
        });
    }

    /** The shapes of {@link #weights()}. */
    Map<String, long[]> shapes() {
        Map<String, long[]> out = new LinkedHashMap<>();
        params.forEach((name, p) -> out.put(name, p.getShape().getShape()));
        return out;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> unused) {
        NDArray pixels = inputs.get(0);
        NDArray ids = inputs.get(1);
        NDArray mask = inputs.get(2);
        long b = ids.getShape().get(0);
        long t = ids.getShape().get(1);
        int n = dims.imageTokens();
        int h = dims.hidden();
        int heads = dims.heads();
        int hd = h / heads;

        // vision tower → image_features [B, N, H]
        NDArray v = pixels;
        for (int i = 0; i < 4; i++) {
            v = Conv2d.conv2d(v, p("vision.conv" + i + ".weight", ps, v, training), p("vision.conv" + i + ".bias", ps, v, training),
                    new Shape(1, 1), new Shape(1, 1)).head();
            v = Pool.maxPool2d(Activation.relu(v), new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), false);
        }
        v = v.reshape(b, dims.visionChannels(), n).transpose(0, 2, 1);
        v = Activation.gelu(v.matMul(p("vision.proj1.weight", ps, v, training)).add(p("vision.proj1.bias", ps, v, training)));
        NDArray image = v.matMul(p("vision.proj2.weight", ps, v, training)).add(p("vision.proj2.bias", ps, v, training));

        // embeddings; rows 1..N are the image tokens (the runtime's layout), replaced by the features
        NDArray emb = ids.getNDArrayInternal().embedding(ids, p("embed.weight", ps, ids, training), SparseFormat.DENSE).head();
        NDArray x = NDArrays.concat(new NDList(emb.get(new NDIndex(":, 0:1")), image, emb.get(new NDIndex(":, {}:", 1 + n))), 1);

        // positions: cumsum(mask) - 1, a pad's clamped to 0 (as the runtime computes them)
        NDArray pos = mask.cumSum(1).sub(1).maximum(0);
        x = x.add(ids.getNDArrayInternal().embedding(pos, p("decoder.pos", ps, ids, training), SparseFormat.DENSE).head());

        // key j visible to query i when j <= i and mask[b, j] = 1 → [B, 1, T, T]
        NDManager m = ids.getManager();
        NDArray steps = m.arange(t);
        NDArray causal = steps.reshape(1, t).lte(steps.reshape(t, 1)).reshape(1, 1, t, t);
        // DJL's where does not broadcast: both sides get the scores' full shape
        Shape scoresShape = new Shape(b, heads, t, t);
        NDArray visible = causal.logicalAnd(mask.toType(DataType.BOOLEAN, false).reshape(b, 1, 1, t)).broadcast(scoresShape);
        NDArray masked = m.full(scoresShape, MASKED);
        float scale = (float) (1 / Math.sqrt(hd));

        for (int l = 0; l < dims.layers(); l++) {
            String pre = "decoder.layers." + l + ".";
            NDArray a = layerNorm(x, pre + "ln1", ps, training);
            NDArray q = heads(linear(a, pre + "attn.q", ps, training), b, t, heads, hd);
            NDArray k = heads(linear(a, pre + "attn.k", ps, training), b, t, heads, hd);
            NDArray val = heads(linear(a, pre + "attn.v", ps, training), b, t, heads, hd);
            NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)).mul(scale);
            scores = NDArrays.where(visible, scores, masked);
            NDArray o = scores.softmax(-1).matMul(val).transpose(0, 2, 1, 3).reshape(b, t, h);
            x = x.add(linear(o, pre + "attn.o", ps, training));
            NDArray mm = layerNorm(x, pre + "ln2", ps, training);
            x = x.add(linear(Activation.gelu(linear(mm, pre + "mlp.fc1", ps, training)), pre + "mlp.fc2", ps, training));
        }
        x = layerNorm(x, "decoder.ln_f", ps, training);
        if (inputs.size() > 3) {
            x = x.reshape(b * t, h).get(inputs.get(3));
        }
        return new NDList(x.matMul(p("lm_head.weight", ps, x, training)));
    }

    private NDArray linear(NDArray x, String name, ParameterStore ps, boolean training) {
        return x.matMul(p(name + ".weight", ps, x, training)).add(p(name + ".bias", ps, x, training));
    }

    private NDArray layerNorm(NDArray x, String name, ParameterStore ps, boolean training) {
        return LayerNorm.layerNorm(x, new Shape(dims.hidden()), p(name + ".weight", ps, x, training),
                p(name + ".bias", ps, x, training), LN_EPS).head();
    }

    private static NDArray heads(NDArray x, long b, long t, int heads, int hd) {
        return x.reshape(b, t, heads, hd).transpose(0, 2, 1, 3);
    }

    /** Mean cross-entropy of picked logits [M, V] against the tokens that follow them, labels int64 [M]. */
    static NDArray loss(NDArray logits, NDArray labels) {
        return logits.logSoftmax(-1).gather(labels.expandDims(-1), 1).mean().neg();
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
        return new Shape[] {inputs.length > 3 ? new Shape(inputs[3].get(0), dims.vocab())
                : new Shape(inputs[1].get(0), inputs[1].get(1), dims.vocab())};
    }
}

package io.heterorag.tuning.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Blocks;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.ConstantInitializer;
import ai.djl.util.PairList;

/**
 * The ModCLIP dual encoder: an image tower (conv blocks + linear) and a text tower (a linear
 * projection of frozen MiniLM embeddings) into one space, with a learnable temperature. Outputs:
 * unit image embeddings, unit text embeddings, log of the logit scale.
 */
final class ModClipNetwork extends AbstractBlock {

    /** Channels of the conv blocks; each halves the side with 2×2 max pooling. */
    static final int[] CHANNELS = {16, 32, 64, 64};

    final SequentialBlock image;
    final Linear text;
    final Parameter logitScale;
    private final int dimension;

    ModClipNetwork(int dimension) {
        super((byte) 1);
        this.dimension = dimension;
        SequentialBlock tower = new SequentialBlock();
        for (int c : CHANNELS) {
            tower.add(Conv2d.builder().setKernelShape(new Shape(3, 3)).optPadding(new Shape(1, 1)).setFilters(c).build())
                    .add(Activation.reluBlock())
                    .add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)));
        }
        tower.add(Blocks.batchFlattenBlock()).add(Linear.builder().setUnits(dimension).build());
        this.image = addChildBlock("image", tower);
        this.text = addChildBlock("text", Linear.builder().setUnits(dimension).build());
        // CLIP's initial temperature 0.07
        this.logitScale = addParameter(Parameter.builder().setName("logit_scale").setType(Parameter.Type.OTHER)
                .optShape(new Shape(1)).optInitializer(new ConstantInitializer((float) Math.log(1 / 0.07))).build());
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray img = image.forward(ps, new NDList(inputs.get(0)), training).singletonOrThrow();
        NDArray txt = text.forward(ps, new NDList(inputs.get(1)), training).singletonOrThrow();
        NDArray scale = ps.getValue(logitScale, img.getDevice(), training);
        return new NDList(unit(img), unit(txt), scale);
    }

    static NDArray unit(NDArray x) {
        return x.div(x.norm(new int[] {1}, true).add(1e-6f));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
        return new Shape[] {new Shape(inputs[0].get(0), dimension), new Shape(inputs[1].get(0), dimension), new Shape(1)};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        image.initialize(manager, dataType, inputShapes[0]);
        text.initialize(manager, dataType, inputShapes[1]);
    }
}

package io.heterorag.model.generation;

import java.awt.image.BufferedImage;

/**
 * What differs between model families: where the image tokens go in the input ids, how the image is
 * preprocessed and encoded, and the position ids (1 axis, or Qwen2-VL's 3-axis rope positions).
 */
interface FamilyAdapter extends AutoCloseable {

    /**
     * A request's prompt ready for the decoder.
     *
     * @param ids           input ids; the image tokens' embedded rows are replaced by {@code imageFeatures}, in order
     * @param imageFeatures [image tokens, hidden] row-major (empty without an image)
     * @param positions     [axes][ids.length]
     * @param positionDelta the position of a token generated at sequence index j is j + delta on every axis
     */
    record Prepared(int[] ids, float[] imageFeatures, long[][] positions, int positionDelta) {
    }

    String family();

    /** 1, or 3 for Qwen2-VL's (temporal, height, width) positions. */
    int positionAxes();

    int imageTokenId();

    /** The input ids for an image (null: none) and the tokens of the templated prompt text, without encoding the image. */
    int[] layout(BufferedImage image, int[] textIds);

    /** {@link #layout} plus the image features and positions (runs the vision encoder). */
    Prepared prepare(BufferedImage image, int[] textIds);

    @Override
    void close();
}

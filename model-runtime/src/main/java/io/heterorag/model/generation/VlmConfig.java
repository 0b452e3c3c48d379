package io.heterorag.model.generation;

/**
 * Shape and special tokens of the platform's VLM (see docs/generator.md, "The platform's VLM"):
 * what {@link VlmOnnxExport} needs to lay out the graphs and write config.json.
 *
 * @param family        "llava" (conv vision tower, [B,S] positions) or "qwen2_vl" (merged-patch
 *                      vision input, 3-axis positions [3,B,S])
 * @param vocabSize     rows of {@code embed.weight}
 * @param hidden        model width H
 * @param layers        decoder layers
 * @param heads         attention heads (kv heads = heads)
 * @param context       max_position_embeddings: rows of the position table(s)
 * @param imageSize     llava: the square input side S (multiple of 16); qwen2_vl: the side a square
 *                      image is resized to (multiple of 28; min_pixels = max_pixels = S²)
 * @param visionChannels llava: channels of the last conv block (unused by qwen2_vl)
 * @param padTokenId    [PAD]
 * @param bosTokenId    &lt;s&gt;
 * @param eosTokenId    &lt;/s&gt;
 * @param imageTokenId  the image placeholder token
 * @param visionStartTokenId qwen2_vl: token before an image's tokens (-1 for llava)
 * @param visionEndTokenId   qwen2_vl: token after an image's tokens (-1 for llava)
 * @param maxNewTokens  generation_config.json's default answer budget
 */
public record VlmConfig(String family, int vocabSize, int hidden, int layers, int heads, int context,
        int imageSize, int visionChannels, int padTokenId, int bosTokenId, int eosTokenId, int imageTokenId,
        int visionStartTokenId, int visionEndTokenId, int maxNewTokens) {

    public static final String LLAVA = "llava";
    public static final String QWEN2_VL = "qwen2_vl";

    /** Qwen2-VL's patch geometry (fixed by its processor). */
    public static final int QWEN_PATCH = 14;
    public static final int QWEN_TEMPORAL_PATCH = 2;
    public static final int QWEN_MERGE = 2;
    /** Values of one patch: channels × temporal × patch × patch = 3·2·14·14. */
    public static final int QWEN_PATCH_VALUES = 3 * QWEN_TEMPORAL_PATCH * QWEN_PATCH * QWEN_PATCH;

    public VlmConfig {
        if (!LLAVA.equals(family) && !QWEN2_VL.equals(family)) {
            throw new IllegalArgumentException("family must be " + LLAVA + " or " + QWEN2_VL + ", not " + family);
        }
        if (vocabSize < 1 || hidden < 1 || layers < 1 || heads < 1 || context < 1 || maxNewTokens < 1) {
            throw new IllegalArgumentException("vocabSize, hidden, layers, heads, context and maxNewTokens must be positive");
        }
        if (hidden % heads != 0) {
            throw new IllegalArgumentException("hidden " + hidden + " is not a multiple of heads " + heads);
        }
        int unit = LLAVA.equals(family) ? 16 : QWEN_PATCH * QWEN_MERGE;
        if (imageSize < unit || imageSize % unit != 0) {
            throw new IllegalArgumentException(family + " imageSize must be a positive multiple of " + unit + ", not " + imageSize);
        }
        if (LLAVA.equals(family) && visionChannels < 1) {
            throw new IllegalArgumentException("visionChannels must be positive");
        }
        for (int id : new int[] {padTokenId, bosTokenId, eosTokenId, imageTokenId}) {
            if (id < 0 || id >= vocabSize) {
                throw new IllegalArgumentException("special token id " + id + " is outside the vocabulary of " + vocabSize);
            }
        }
        if (QWEN2_VL.equals(family) && (visionStartTokenId < 0 || visionStartTokenId >= vocabSize
                || visionEndTokenId < 0 || visionEndTokenId >= vocabSize)) {
            throw new IllegalArgumentException("qwen2_vl needs vision start/end token ids inside the vocabulary");
        }
    }

    /** The platform's LLaVA-family VLM with the tokenizer ids of {@link WordPieceVocabulary}. */
    public static VlmConfig llava(int vocabSize, int hidden, int layers, int heads, int context, int imageSize,
            int visionChannels, int maxNewTokens) {
        return new VlmConfig(LLAVA, vocabSize, hidden, layers, heads, context, imageSize, visionChannels,
                WordPieceVocabulary.PAD_ID, WordPieceVocabulary.BOS_ID, WordPieceVocabulary.EOS_ID,
                WordPieceVocabulary.IMAGE_ID, -1, -1, maxNewTokens);
    }

    /** The defaults of docs/generator.md (vocabulary size from the tokenizer). */
    public static VlmConfig llavaDefaults(int vocabSize) {
        return llava(vocabSize, 128, 2, 4, 320, 64, 128, 64);
    }

    /**
     * A Qwen2-VL-family model; ids 5 and 6 are the vision start/end specials that
     * {@link WordPieceVocabulary#QWEN_SPECIALS} adds.
     */
    public static VlmConfig qwen2vl(int vocabSize, int hidden, int layers, int heads, int context, int imageSize,
            int maxNewTokens) {
        return new VlmConfig(QWEN2_VL, vocabSize, hidden, layers, heads, context, imageSize, 0,
                WordPieceVocabulary.PAD_ID, WordPieceVocabulary.BOS_ID, WordPieceVocabulary.EOS_ID,
                WordPieceVocabulary.IMAGE_ID, 5, 6, maxNewTokens);
    }

    public int headDim() {
        return hidden / heads;
    }

    /** Image tokens per square image of imageSize: llava (S/16)², qwen2_vl (S/28)². */
    public int imageTokens() {
        int side = LLAVA.equals(family) ? imageSize / 16 : imageSize / (QWEN_PATCH * QWEN_MERGE);
        return side * side;
    }

    public boolean isLlava() {
        return LLAVA.equals(family);
    }
}

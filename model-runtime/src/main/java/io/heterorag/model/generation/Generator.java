package io.heterorag.model.generation;

import java.util.function.Consumer;

/**
 * A generative (vision–)language model: the seam between serving/training code and the runtime.
 * Implementations are thread-safe; concurrent calls may be decoded together in one batch.
 */
public interface Generator extends AutoCloseable {

    /** "name@version" (bundle.json), else the bundle directory's name. */
    String id();

    /** The family adapter serving it: "llava" or "qwen2_vl". */
    String family();

    /** Longest sequence (prompt + image tokens + generated tokens) the model takes. */
    int contextLength();

    /** Tokens the prompt text takes (no special or image tokens). */
    int countTokens(String text);

    /** Tokens the adapter adds around the prompt text (special tokens, image tokens, template) for this input. */
    int overheadTokens(GenerationInput input);

    /**
     * Generates an answer; {@code onText} receives the new text as tokens are produced (whole UTF-8
     * characters only, stop strings held back until they cannot match). Blocks until done.
     * Throws IllegalArgumentException for a prompt that does not fit the context.
     */
    Generation generate(GenerationInput input, DecodingOptions options, Consumer<String> onText);

    /** Teacher-forced log-probability of {@code response} (plus the end token) after the input: sum of log-softmax. */
    double logProb(GenerationInput input, String response);

    @Override
    void close();
}

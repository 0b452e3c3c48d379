package io.heterorag.model.generation;

import java.util.List;

/**
 * How to decode. temperature 0 is greedy; otherwise sampling with top-k (0: off) and top-p (1: off)
 * from a generator seeded with {@code seed}. Stop strings end the text before them; {@code choices}
 * (non-empty) constrains the output to exactly one of them (closed questions); {@code constraint}
 * (null: none) constrains it to a language, e.g. {@link TaggedQueryGrammar} (not together with choices).
 */
public record DecodingOptions(int maxNewTokens, float temperature, float topP, int topK, long seed, float repetitionPenalty,
        List<String> stop, List<String> choices, TokenConstraint.Spec constraint) {

    public DecodingOptions {
        stop = List.copyOf(stop);
        choices = List.copyOf(choices);
        if (constraint != null && !choices.isEmpty()) {
            throw new IllegalArgumentException("choices and a token constraint cannot both constrain one output");
        }
    }

    /** Options without a token constraint. */
    public DecodingOptions(int maxNewTokens, float temperature, float topP, int topK, long seed, float repetitionPenalty,
            List<String> stop, List<String> choices) {
        this(maxNewTokens, temperature, topP, topK, seed, repetitionPenalty, stop, choices, null);
    }

    public static DecodingOptions greedy(int maxNewTokens) {
        return new DecodingOptions(maxNewTokens, 0f, 1f, 0, 0L, 1f, List.of(), List.of());
    }

    public DecodingOptions withChoices(List<String> answers) {
        return new DecodingOptions(maxNewTokens, temperature, topP, topK, seed, repetitionPenalty, stop, answers, constraint);
    }

    /** The same options, decoded under {@code spec} (bound to the serving generator's vocabulary). */
    public DecodingOptions withConstraint(TokenConstraint.Spec spec) {
        return new DecodingOptions(maxNewTokens, temperature, topP, topK, seed, repetitionPenalty, stop, choices, spec);
    }
}

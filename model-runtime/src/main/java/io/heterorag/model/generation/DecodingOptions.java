package io.heterorag.model.generation;

import java.util.List;

/**
 * How to decode. temperature 0 is greedy; otherwise sampling with top-k (0: off) and top-p (1: off)
 * from a generator seeded with {@code seed}. Stop strings end the text before them; {@code choices}
 * (non-empty) constrains the output to exactly one of them (closed questions).
 */
public record DecodingOptions(int maxNewTokens, float temperature, float topP, int topK, long seed, float repetitionPenalty,
        List<String> stop, List<String> choices) {

    public DecodingOptions {
        stop = List.copyOf(stop);
        choices = List.copyOf(choices);
    }

    public static DecodingOptions greedy(int maxNewTokens) {
        return new DecodingOptions(maxNewTokens, 0f, 1f, 0, 0L, 1f, List.of(), List.of());
    }

    public DecodingOptions withChoices(List<String> answers) {
        return new DecodingOptions(maxNewTokens, temperature, topP, topK, seed, repetitionPenalty, stop, answers);
    }
}

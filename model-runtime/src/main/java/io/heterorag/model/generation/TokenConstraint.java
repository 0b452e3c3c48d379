package io.heterorag.model.generation;

/**
 * Constrained decoding in general: which tokens may come next, as a function of the tokens
 * generated so far. The decode loop masks every other token's logit before sampling, so whatever
 * the weights, the output stays inside the constraint. Closed answers use {@link ChoiceTrie}; a
 * grammar (e.g. {@link TaggedQueryGrammar}) is bound to a generator's vocabulary as one of these.
 */
public interface TokenConstraint {

    /**
     * @param generated the tokens taken so far (no eos)
     * @param remaining tokens the request may still take, this one included (max_new_tokens − generated)
     * @return the ids that may come next, the eos ids among them when the output may end here; never
     *         empty while {@code remaining} ≥ 1 (a constraint that would be is refused when it is bound)
     */
    int[] allowed(int[] generated, int remaining);

    /** What {@link DecodingOptions} carries: a constraint that is bound to the serving generator's vocabulary per request. */
    @FunctionalInterface
    interface Spec {
        /**
         * @param maxNewTokens the request's budget: a spec whose shortest complete output does not fit
         *                     refuses with IllegalArgumentException
         */
        TokenConstraint bind(TokenVocabulary vocabulary, int maxNewTokens);
    }
}

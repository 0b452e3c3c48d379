package io.heterorag.model.generation;

/**
 * A finished generation. finishReason: "eos", "stop", "length" or "closed" (a constrained choice was
 * completed). Times are from the call's start.
 */
public record Generation(String text, int[] tokenIds, int promptTokens, String finishReason, long firstTokenNanos,
        long totalNanos) {
}

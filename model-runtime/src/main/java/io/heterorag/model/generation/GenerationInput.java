package io.heterorag.model.generation;

import java.awt.image.BufferedImage;

/**
 * What a generator reads: the image (null for a text-only request or model) and the prompt text
 * (usually {@link RagPrompt#render}); the family adapter adds the special tokens, the image tokens
 * and the bundle's prompt template around it.
 */
public record GenerationInput(BufferedImage image, String prompt) {
}

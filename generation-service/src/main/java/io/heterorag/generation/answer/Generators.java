package io.heterorag.generation.answer;

import java.nio.file.Path;

import io.heterorag.model.generation.Generator;

/** Placeholder until the ONNX runtime (OnnxGenerator) is merged. */
final class Generators {

    private Generators() {
    }

    static Generator load(Path bundle, String executionProvider) {
        throw new UnsupportedOperationException("OnnxGenerator is not merged yet: cannot load " + bundle);
    }
}

package io.heterorag.model.generation;

import java.nio.file.Path;

import org.junit.jupiter.api.io.TempDir;

/** The Generator contract on OnnxGenerator serving the tiny llava-family bundle. */
class LlavaGeneratorContractTest extends GeneratorContract {

    @TempDir
    static Path dir;

    @Override
    protected Path bundle() {
        return TinyVlmBundles.llava(dir);
    }
}

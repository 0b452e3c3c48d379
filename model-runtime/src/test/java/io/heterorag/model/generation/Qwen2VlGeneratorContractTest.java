package io.heterorag.model.generation;

import java.nio.file.Path;

import org.junit.jupiter.api.io.TempDir;

/** The Generator contract on OnnxGenerator serving the tiny qwen2_vl-family bundle. */
class Qwen2VlGeneratorContractTest extends GeneratorContract {

    @TempDir
    static Path dir;

    @Override
    protected Path bundle() {
        return TinyVlmBundles.qwen2vl(dir);
    }
}

package io.heterorag.model.generation;

import java.nio.file.Path;

import io.heterorag.model.bundle.ExecutionProviders;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The Generator contract on OnnxGenerator serving the tiny qwen2_vl-family bundle. */
class Qwen2VlGeneratorContractTest extends GeneratorContract {

    @TempDir
    static Path dir;
    static ExecutionProviders.Choice cpu;
    static OnnxGenerator generator;

    @BeforeAll
    static void load() {
        cpu = ExecutionProviders.choose("cpu", 1);
        generator = OnnxGenerator.load(TinyVlmBundles.qwen2vl(dir), cpu);
    }

    @AfterAll
    static void close() {
        generator.close();
        cpu.options().close();
    }

    @Override
    protected Generator generator() {
        return generator;
    }
}

package io.heterorag.model.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The CPU build of ONNX Runtime (the one on this classpath) has no CUDA provider. */
class ExecutionProvidersTest {

    @Test
    void autoAndCpuRunOnCpuHere() {
        for (String p : new String[] {"auto", "cpu", " CPU "}) {
            ExecutionProviders.Choice c = ExecutionProviders.choose(p, 1);
            assertEquals("cpu", c.provider());
            c.options().close();
        }
    }

    @Test
    void cudaWithoutTheGpuBuildFailsLoudly() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ExecutionProviders.choose("cuda", 0));
        assertTrue(e.getMessage().contains("onnxruntime_gpu"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ExecutionProviders.choose("tpu", 0));
    }
}

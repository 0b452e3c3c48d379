package io.heterorag.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.heterorag.model.generation.TinyVlmBundles;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class GenerateBenchTest {

    static final Path ROOT = Path.of("target", "generate-bench-test").toAbsolutePath();
    static final Path MEDPIX = Path.of("../../shared/data/medpix-2.0");

    @Test
    void theDefaultBundleIsTheNewestTrainedGeneratorAndNoneIsAClearError() throws Exception {
        Files.createDirectories(ROOT);
        Path home = Files.createTempDirectory(ROOT, "home"); // a fresh state folder each run
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GenerateBench.newestTrained(home));
        assertTrue(e.getMessage().startsWith("no trained generator under "), e.getMessage());
        Path models = home.resolve("data/tuning/models");
        for (String name : List.of("heterorag-vlm-1", "heterorag-vlm-2", "modclip-radiology-9")) {
            Files.createDirectories(models.resolve(name));
            Files.writeString(models.resolve(name).resolve("bundle.json"), "{}");
        }
        Files.createDirectories(models.resolve("heterorag-vlm-3")); // an export cut short: no bundle.json
        Files.setLastModifiedTime(models.resolve("heterorag-vlm-1/bundle.json"), FileTime.fromMillis(2_000_000_000_000L));
        Files.setLastModifiedTime(models.resolve("heterorag-vlm-2/bundle.json"), FileTime.fromMillis(1_000_000_000_000L));
        Files.setLastModifiedTime(models.resolve("modclip-radiology-9/bundle.json"), FileTime.fromMillis(2_100_000_000_000L));
        assertEquals(models.resolve("heterorag-vlm-1"), GenerateBench.newestTrained(home));
    }

    /** The plumbing on the runtime's tiny fixture (its figures mean nothing): batched greedy decoding must equal unbatched. */
    @Test
    void measuresSingleAndBatchedDecodingAndComparesTheirTokens() throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(MEDPIX), "MedPix not found");
        Path bundle = TinyVlmBundles.llava(ROOT.resolve("tiny-llava"));
        System.setProperty("heterorag.home", ROOT.resolve("home-run").toString());
        try {
            assertEquals(0, GenerateBench.run(new Args(List.of("generate", "--bundle", bundle.toString(), "--requests", "6",
                    "--concurrency", "3", "--max-new-tokens", "8", "--data", MEDPIX.toString(), "--json"), Set.of("json"))));
        } finally {
            System.clearProperty("heterorag.home");
        }
        JsonNode out = new ObjectMapper().readTree(ROOT.resolve("home-run/bench/generate.json").toFile());
        assertEquals("tiny-vlm@test", out.get("generator").asText());
        assertTrue(out.get("identical_outputs").asBoolean());
        assertTrue(out.get("single_tokens_per_s").asDouble() > 0);
        assertTrue(out.get("batched_tokens_per_s").asDouble() > 0);
        assertTrue(out.get("ttft_p95_ms").asDouble() >= out.get("ttft_p50_ms").asDouble());
        assertTrue(out.get("prompt_tokens_mean").asDouble() > 10);
    }
}

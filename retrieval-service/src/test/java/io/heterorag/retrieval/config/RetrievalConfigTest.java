package io.heterorag.retrieval.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.heterorag.retrieval.ingest.AtlasIngestor;
import io.heterorag.retrieval.ingest.Chunker;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;
import org.junit.jupiter.api.Test;

/** The mapping as SmallRye reads it: defaults, the split candidates keys and their deprecated alias, the chunker's bounds. */
class RetrievalConfigTest {

    static RetrievalConfig config(Map<String, String> props) {
        Map<String, String> p = new HashMap<>(props);
        p.put("quarkus.uuid", "test-uuid"); // Quarkus defines it; replica-id defaults to it
        // default interceptors: expressions in values and defaults are expanded, as in Quarkus
        return new SmallRyeConfigBuilder().addDefaultInterceptors().withMapping(RetrievalConfig.class).withSources(new PropertiesConfigSource(p, "test", 500))
                .build().getConfigMapping(RetrievalConfig.class);
    }

    @Test
    void defaultsAreTheFormerOnes() {
        RetrievalConfig c = config(Map.of());
        assertEquals(50, c.retrieval().reportCandidates());
        assertEquals(50, c.retrieval().corpusCandidates());
        assertTrue(c.retrieval().candidates().isEmpty());
        assertEquals(1000, c.retrieval().ingest().chunkSize());
        assertEquals(200, c.retrieval().ingest().chunkOverlap());
        assertEquals("test-uuid", c.retrieval().replicaId());
        assertEquals("zscore", c.retrieval().fusion().rule());
        assertEquals(0.9, c.retrieval().adaptiveK().ratio());
        assertTrue(c.store().qdrant().apiKey().isEmpty());
        assertTrue(c.models().imageBundle().pathology().isEmpty());
    }

    /** The names docs/configuration.md lists (ConfigurationDocTest derives them from the source) are the ones SmallRye reads. */
    @Test
    void keysAreReadUnderTheDocumentedNames() {
        RetrievalConfig c = config(Map.of("heterorag.store.qdrant.int8-quantization", "false", "heterorag.store.qdrant.timeout-s", "7",
                "heterorag.store.qdrant.hnsw-ef-construct", "99", "heterorag.retrieval.adaptive-k.min", "3",
                "heterorag.models.image-bundle.radiology", "/bundles/r", "heterorag.retrieval.max-id-chars", "64",
                "heterorag.store.qdrant.api-key", "k"));
        assertEquals(false, c.store().qdrant().int8Quantization());
        assertEquals(7, c.store().qdrant().timeoutS());
        assertEquals(99, c.store().qdrant().hnswEfConstruct());
        assertEquals(3, c.retrieval().adaptiveK().min());
        assertEquals(java.nio.file.Path.of("/bundles/r"), c.models().imageBundle().radiology().orElseThrow());
        assertEquals(64, c.retrieval().maxIdChars());
        assertEquals("k", c.store().qdrant().apiKey().orElseThrow());
    }

    @Test
    void theDeprecatedCandidatesKeySetsBothNewKeysUnlessTheyAreGiven() {
        RetrievalConfig old = config(Map.of("heterorag.retrieval.candidates", "70"));
        assertEquals(70, old.retrieval().reportCandidates());
        assertEquals(70, old.retrieval().corpusCandidates());
        RetrievalConfig split = config(Map.of("heterorag.retrieval.candidates", "70", "heterorag.retrieval.report-candidates", "30"));
        assertEquals(30, split.retrieval().reportCandidates());
        assertEquals(70, split.retrieval().corpusCandidates());
        assertEquals(120, config(Map.of("heterorag.retrieval.corpus-candidates", "120")).retrieval().corpusCandidates());
    }

    @Test
    void chunkSizeAndOverlapAreReadAndBounded() {
        Chunker small = AtlasIngestor.chunker(config(Map.of("heterorag.retrieval.ingest.chunk-size", "21",
                "heterorag.retrieval.ingest.chunk-overlap", "11")).retrieval().ingest());
        assertEquals(List.of("Aaaa bbbb. Cccc dddd.", "Cccc dddd. Eeee ffff."), small.chunk("Aaaa bbbb. Cccc dddd. Eeee ffff."));
        for (String[] bad : new String[][] {{"100", "100"}, {"100", "150"}, {"0", "0"}, {"100", "-1"}}) {
            var e = assertThrows(IllegalArgumentException.class, () -> AtlasIngestor.chunker(config(Map.of(
                    "heterorag.retrieval.ingest.chunk-size", bad[0], "heterorag.retrieval.ingest.chunk-overlap", bad[1])).retrieval().ingest()));
            assertTrue(e.getMessage().contains("heterorag.retrieval.ingest.chunk-size (" + bad[0] + ")")
                    && e.getMessage().contains("heterorag.retrieval.ingest.chunk-overlap (" + bad[1] + ")"), e.getMessage());
        }
        // the chunker itself refuses them too (it is built without the mapping elsewhere)
        assertThrows(IllegalArgumentException.class, () -> new Chunker(0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Chunker(10, -1));
        assertEquals(1, AtlasIngestor.chunker(config(Map.of("heterorag.retrieval.ingest.chunk-overlap", "0")).retrieval().ingest())
                .chunk("One. Two.").size(), "no overlap is allowed");
    }
}

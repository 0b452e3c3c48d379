package io.heterorag.retrieval.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.heterorag.model.bundle.ModelBundles;
import io.heterorag.model.image.BaselineImageBundle;
import io.heterorag.model.image.ImageDecoder;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.ModelBundleManifest;
import io.heterorag.retrieval.SharedModels;
import io.heterorag.retrieval.TestData;
import io.heterorag.retrieval.model.Models;
import io.heterorag.store.VectorCollection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report repositories as one class over real parts (embedded collections, the baseline image
 * encoder in ONNX Runtime): leases, the writer lock's body, counts, and a swap that re-embeds every
 * stored image (more than one bulk batch) into a new collection, records the choice on disk and drops
 * the old collection once its last lease ends.
 */
class ReportRepositoriesTest {

    static final String IMAGE = "MPX1022_synpic17356";

    @TempDir
    Path dir;

    Models models;
    CollectionFactory factory;
    ReportRepositories repos;

    @BeforeEach
    void open() {
        models = SharedModels.get();
        factory = factory(dir);
        repos = new ReportRepositories(factory, models, "test-replica", 200);
    }

    @AfterEach
    void close() {
        repos.close();
    }

    static CollectionFactory factory(Path dir) {
        return new CollectionFactory(dir, "embedded", "localhost", 6334, false, " ", "t_", 16, 100, true, 1, 1, 256, 30);
    }

    /** A copy of the baseline bundle under another version: another encoder id, the same graph. */
    Path newVersion(String version) {
        Path bundle = dir.resolve("bundle-" + version);
        BaselineImageBundle.materialize(bundle);
        ModelBundleManifest m = ModelBundles.read(bundle).toBuilder().setVersion(version).build();
        ModelBundles.write(bundle, m);
        return bundle;
    }

    /** n entries of the same real image with a vector no encoder gives (so a re-embedding shows). */
    void store(Modality m, int n) {
        byte[] image = TestData.image(IMAGE);
        float[] junk;
        try (ReportRepositories.Lease l = repos.lease(m)) {
            junk = new float[l.encoder().dimension()];
        }
        junk[0] = 1;
        List<VectorCollection.Entry> entries = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            entries.add(new VectorCollection.Entry("r" + i, "r" + i, "h" + i, "", "report " + i, junk, image, Map.of("diagnosis", "d" + i)));
        }
        repos.write(m, lease -> {
            lease.collection().upsert(entries);
            return null;
        });
    }

    @Test
    void leasesCountsAndTheWriterLocksBody() {
        assertEquals(List.of("reports-radiology", "reports-ophthalmology", "reports-pathology"), List.copyOf(repos.counts().keySet()));
        store(Modality.PATHOLOGY, 2);
        assertEquals(Map.of("reports-radiology", 0L, "reports-ophthalmology", 0L, "reports-pathology", 2L), repos.counts());
        assertEquals("baseline-thumbnail@1", repos.write(Modality.RADIOLOGY, l -> l.encoder().id()));
        assertThrows(IllegalArgumentException.class, () -> repos.lease(Modality.MODALITY_UNSPECIFIED));
        assertTrue(repos.isOpen());

        BufferedImage img = ImageDecoder.decode(TestData.image(IMAGE), "");
        try (ReportRepositories.Lease l = repos.lease(Modality.RADIOLOGY)) {
            assertArrayEquals(l.encoder().embed(List.of(img))[0], l.embed(img), 1e-6f, "the micro-batched embedding is the encoder's");
        }
        repos.close();
        assertFalse(repos.isOpen());
    }

    @Test
    void aSwapReleasesTheWriterLockForOtherThreads() throws Exception {
        repos.reindex(Modality.RADIOLOGY, newVersion("v4"));
        var other = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            assertEquals("baseline-thumbnail@v4", other.submit(() -> repos.write(Modality.RADIOLOGY, l -> l.encoder().id()))
                    .get(30, java.util.concurrent.TimeUnit.SECONDS));
        } finally {
            other.shutdownNow();
        }
    }
}

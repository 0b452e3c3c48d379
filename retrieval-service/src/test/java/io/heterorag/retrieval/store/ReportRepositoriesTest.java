package io.heterorag.retrieval.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

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
        repos = new ReportRepositories(factory, models);
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
    void swappingInTheServingEncoderChangesNothing() {
        store(Modality.RADIOLOGY, 1);
        assertEquals("baseline-thumbnail@1", repos.swap(Modality.RADIOLOGY, models.configuredImageBundle(Modality.RADIOLOGY)));
        assertFalse(Files.exists(factory.root().resolve("reports-radiology.serving")), "nothing recorded");
        try (ReportRepositories.Lease l = repos.lease(Modality.RADIOLOGY)) {
            assertEquals("reports-radiology", l.collection().name());
            assertEquals(1, l.collection().count());
        }
    }

    @Test
    void aSwapReembedsEveryStoredImageRecordsItAndDropsTheOldCollectionAfterItsLastLease() throws IOException {
        int n = Models.BULK_BATCH + 1;
        store(Modality.OPHTHALMOLOGY, n);
        store(Modality.RADIOLOGY, 1);
        ReportRepositories.Lease held = repos.lease(Modality.OPHTHALMOLOGY);
        VectorCollection old = held.collection();

        Path bundle = newVersion("v2/x");
        // a re-index cut short earlier left a collection under the new name: it is dropped first
        try (VectorCollection stale = factory.open("reports-ophthalmology@baseline-thumbnail_v2_x")) {
            float[] v = new float[held.encoder().dimension()];
            v[1] = 1;
            stale.upsert(List.of(new VectorCollection.Entry("stale", "stale", "h", "", "stale", v, null, Map.of())));
        }
        assertEquals("baseline-thumbnail@v2/x", repos.swap(Modality.OPHTHALMOLOGY, bundle));

        try (ReportRepositories.Lease l = repos.lease(Modality.OPHTHALMOLOGY)) {
            assertEquals("baseline-thumbnail@v2/x", l.encoder().id());
            assertEquals("reports-ophthalmology@baseline-thumbnail_v2_x", l.collection().name(), "unsafe characters replaced");
            assertEquals(n, l.collection().count(), "every entry re-embedded, the last bulk batch too; the stale entry gone");
            float[] v = l.encoder().embed(List.of(ImageDecoder.decode(TestData.image(IMAGE), "")))[0];
            List<VectorCollection.Hit> hits = l.collection().nearest(v, n, n, Map.of());
            assertEquals(n, hits.size());
            hits.forEach(h -> assertEquals(1f, h.score(), 1e-4f, h.id() + " carries the new encoder's vector"));
            VectorCollection.Hit r3 = hits.stream().filter(h -> h.id().equals("r3")).findFirst().orElseThrow();
            assertEquals("report 3", r3.text());
            assertEquals("d3", r3.metadata().get("diagnosis"));
        }
        try (ReportRepositories.Lease l = repos.lease(Modality.RADIOLOGY)) {
            assertEquals("baseline-thumbnail@1", l.encoder().id(), "other modalities keep their encoder");
        }

        // the request that started before the swap still reads the old collection until it ends
        assertTrue(old.isOpen());
        assertEquals(n, old.count());
        held.close();
        assertFalse(old.isOpen(), "the retired collection is dropped once idle");
        assertFalse(Files.exists(factory.root().resolve("reports-ophthalmology")), "its files deleted");

        Properties pointer = new Properties();
        try (Reader r = Files.newBufferedReader(factory.root().resolve("reports-ophthalmology.serving"))) {
            pointer.load(r);
        }
        assertEquals("reports-ophthalmology@baseline-thumbnail_v2_x", pointer.getProperty("collection"));
        assertEquals(bundle.toAbsolutePath().toString(), pointer.getProperty("bundle"));
        assertFalse(Files.exists(factory.root().resolve("reports-ophthalmology.serving.tmp")));

        // a restart serves what was recorded
        repos.close();
        repos = new ReportRepositories(factory(dir), models);
        try (ReportRepositories.Lease l = repos.lease(Modality.OPHTHALMOLOGY)) {
            assertEquals("baseline-thumbnail@v2/x", l.encoder().id());
            assertEquals(n, l.collection().count());
        }
        try (ReportRepositories.Lease l = repos.lease(Modality.PATHOLOGY)) {
            assertEquals("baseline-thumbnail@1", l.encoder().id());
        }
    }

    @Test
    void aSwapWithoutLeasesDropsTheOldCollectionAtOnce() {
        store(Modality.PATHOLOGY, 1);
        VectorCollection old;
        try (ReportRepositories.Lease l = repos.lease(Modality.PATHOLOGY)) {
            old = l.collection();
        }
        repos.swap(Modality.PATHOLOGY, newVersion("v3"));
        assertFalse(old.isOpen());
        assertFalse(Files.exists(factory.root().resolve("reports-pathology")));
        try (ReportRepositories.Lease l = repos.lease(Modality.PATHOLOGY)) {
            assertNotEquals(old, l.collection());
            assertEquals(1, l.collection().count());
        }
        repos.close();
        assertTrue(Files.exists(factory.root().resolve("reports-pathology@baseline-thumbnail_v3")), "closing keeps the serving files");
    }

    @Test
    void aSwapReleasesTheWriterLockForOtherThreads() throws Exception {
        repos.swap(Modality.RADIOLOGY, newVersion("v4"));
        var other = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            assertEquals("baseline-thumbnail@v4", other.submit(() -> repos.write(Modality.RADIOLOGY, l -> l.encoder().id()))
                    .get(30, java.util.concurrent.TimeUnit.SECONDS));
        } finally {
            other.shutdownNow();
        }
    }
}

package io.heterorag.retrieval.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import java.util.function.BooleanSupplier;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

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
        repos = repositories();
    }

    /** The one place this test builds the class (its configuration: replica id, alias poll interval). */
    ReportRepositories repositories() {
        return new ReportRepositories(factory, models, "test-replica", 200);
    }

    static void eventually(BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.nanoTime() + 20_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("not within 20 s: " + what);
            }
            Thread.sleep(20);
        }
    }

    Properties pointer(String repository) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(factory.root().resolve(repository + ".serving"))) {
            p.load(r);
        }
        return p;
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

    @Test
    void reindexingTheServingEncoderChangesNothing() throws IOException {
        store(Modality.RADIOLOGY, 1);
        assertEquals("baseline-thumbnail@1", repos.reindex(Modality.RADIOLOGY, models.configuredImageBundle(Modality.RADIOLOGY)));
        assertEquals("reports-radiology", pointer("reports-radiology").getProperty("collection"), "still the base collection");
        assertFalse(Files.exists(factory.root().resolve("reports-radiology--baseline-thumbnail_1")), "no collection made");
        assertEquals("reports-radiology", repos.servingCollection(Modality.RADIOLOGY));
        assertFalse(factory.aliases().all().containsKey("serving--reports-radiology"), "the alias is not written either");
        try (ReportRepositories.Lease l = repos.lease(Modality.RADIOLOGY)) {
            assertEquals("reports-radiology", l.collection().name());
            assertEquals(1, l.collection().count());
        }
    }

    @Test
    void aReindexReembedsEveryStoredImagePointsTheAliasRecordsItAndDropsTheOldCollectionAfterItsLastLease() throws Exception {
        int n = Models.BULK_BATCH + 1;
        store(Modality.OPHTHALMOLOGY, n);
        store(Modality.RADIOLOGY, 1);
        ReportRepositories.Lease held = repos.lease(Modality.OPHTHALMOLOGY);
        VectorCollection old = held.collection();
        int dim = held.encoder().dimension();

        Path bundle = newVersion("v2/x");
        String target = "reports-ophthalmology--baseline-thumbnail_v2_x";
        // a re-index cut short earlier left two entries in the new collection: r3 unchanged (same hash: kept as it
        // is, the vector marks it), r4 with another hash (re-embedded)
        float[] mark = new float[dim];
        mark[1] = 1;
        try (VectorCollection partial = factory.open(target)) {
            partial.upsert(List.of(new VectorCollection.Entry("r3", "r3", "h3", "", "report 3", mark, TestData.image(IMAGE), Map.of()),
                    new VectorCollection.Entry("r4", "r4", "changed", "", "report 4", mark, TestData.image(IMAGE), Map.of())));
        }
        assertEquals("baseline-thumbnail@v2/x", repos.reindex(Modality.OPHTHALMOLOGY, bundle));

        assertEquals(target, repos.servingCollection(Modality.OPHTHALMOLOGY), "unsafe characters replaced");
        Map<String, String> aliases = factory.aliases().all();
        assertEquals(target, aliases.get("serving--reports-ophthalmology"));
        assertEquals(target, aliases.get("pin--test-replica--" + target), "pinned while this replica reads it");
        try (ReportRepositories.Lease l = repos.lease(Modality.OPHTHALMOLOGY)) {
            assertEquals("baseline-thumbnail@v2/x", l.encoder().id());
            assertEquals(target, l.collection().name());
            assertEquals(n, l.collection().count(), "every entry re-embedded, the last bulk batch too");
            float[] v = l.encoder().embed(List.of(ImageDecoder.decode(TestData.image(IMAGE), "")))[0];
            List<VectorCollection.Hit> hits = l.collection().nearest(v, n, n, Map.of());
            assertEquals(n, hits.size());
            for (VectorCollection.Hit h : hits) {
                if (h.id().equals("r3")) {
                    assertTrue(h.score() < 0.99f, "r3 was there unchanged: not re-embedded (its vector is the mark), score " + h.score());
                } else {
                    assertEquals(1f, h.score(), 1e-4f, h.id() + " carries the new encoder's vector");
                }
            }
            VectorCollection.Hit r5 = hits.stream().filter(h -> h.id().equals("r5")).findFirst().orElseThrow();
            assertEquals("report 5", r5.text());
            assertEquals("d5", r5.metadata().get("diagnosis"));
        }
        try (ReportRepositories.Lease l = repos.lease(Modality.RADIOLOGY)) {
            assertEquals("baseline-thumbnail@1", l.encoder().id(), "other modalities keep their encoder");
        }

        // the request that started before the swap still reads the old collection until it ends
        assertTrue(old.isOpen());
        assertEquals(n, old.count());
        held.close();
        assertFalse(old.isOpen(), "the retired pair closes when its last lease ends");
        eventually(() -> !Files.exists(factory.root().resolve("reports-ophthalmology")), "the old collection dropped: no alias points at it");

        Properties pointer = pointer("reports-ophthalmology");
        assertEquals(target, pointer.getProperty("collection"));
        assertEquals(bundle.toAbsolutePath().toString(), pointer.getProperty("bundle"));
        assertFalse(Files.exists(factory.root().resolve("reports-ophthalmology.serving.tmp")));

        // a restart serves what was recorded
        repos.close();
        repos = repositories();
        try (ReportRepositories.Lease l = repos.lease(Modality.OPHTHALMOLOGY)) {
            assertEquals("baseline-thumbnail@v2/x", l.encoder().id());
            assertEquals(n, l.collection().count());
        }
        try (ReportRepositories.Lease l = repos.lease(Modality.PATHOLOGY)) {
            assertEquals("baseline-thumbnail@1", l.encoder().id());
        }
    }

    @Test
    void aReindexWithoutLeasesDropsTheOldCollectionAndClosingKeepsTheServedOne() throws Exception {
        store(Modality.PATHOLOGY, 1);
        VectorCollection old;
        try (ReportRepositories.Lease l = repos.lease(Modality.PATHOLOGY)) {
            old = l.collection();
        }
        repos.reindex(Modality.PATHOLOGY, newVersion("v3"));
        assertFalse(old.isOpen());
        eventually(() -> !Files.exists(factory.root().resolve("reports-pathology")), "the old collection dropped");
        try (ReportRepositories.Lease l = repos.lease(Modality.PATHOLOGY)) {
            assertNotEquals(old, l.collection());
            assertEquals(1, l.collection().count());
        }
        repos.close();
        assertTrue(Files.exists(factory.root().resolve("reports-pathology--baseline-thumbnail_v3")), "closing keeps the serving files");
        assertEquals("reports-pathology--baseline-thumbnail_v3", factory.aliases().all().get("serving--reports-pathology"));
        assertFalse(factory.aliases().all().containsKey("pin--test-replica--reports-pathology--baseline-thumbnail_v3"),
                "a closed replica reads nothing: its pins go");
    }

    @Test
    void aRepositoryWhoseEncoderIsNotKnownWaitsUntilItIsAnnounced() throws Exception {
        Path bundle = newVersion("v5");
        String target = "reports-pathology--baseline-thumbnail_v5";
        try (ReportRepositories.Lease l = repos.lease(Modality.PATHOLOGY); VectorCollection c = factory.open(target)) {
            c.create(l.encoder().dimension());
        }
        factory.aliases().point("serving--reports-pathology", target); // another replica re-indexed
        repos.close();
        repos = repositories();

        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> repos.lease(Modality.PATHOLOGY));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
        assertEquals("reports-pathology is not served yet: this replica waits for the announcement of the encoder that built the "
                + "collection the store serves", e.getStatus().getDescription());
        assertNull(repos.servingCollection(Modality.PATHOLOGY));
        assertFalse(repos.isOpen());
        assertEquals(List.of("reports-radiology", "reports-ophthalmology"), List.copyOf(repos.counts().keySet()), "only what it serves");

        repos.follow(Modality.PATHOLOGY, bundle);
        assertEquals(target, repos.servingCollection(Modality.PATHOLOGY));
        try (ReportRepositories.Lease l = repos.lease(Modality.PATHOLOGY)) {
            assertEquals("baseline-thumbnail@v5", l.encoder().id());
        }
        assertTrue(repos.isOpen());
        assertEquals(target, pointer("reports-pathology").getProperty("collection"));
        assertEquals(target, factory.aliases().all().get("pin--test-replica--" + target));
    }

    @Test
    void aWriteWaitsForTheRepositoryToBeServed() throws Exception {
        Path bundle = newVersion("v6");
        String target = "reports-radiology--baseline-thumbnail_v6";
        try (ReportRepositories.Lease l = repos.lease(Modality.RADIOLOGY); VectorCollection c = factory.open(target)) {
            c.create(l.encoder().dimension());
        }
        factory.aliases().point("serving--reports-radiology", target);
        repos.close();
        repos = repositories();
        var announcer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        try {
            announcer.schedule(() -> repos.follow(Modality.RADIOLOGY, bundle), 300, java.util.concurrent.TimeUnit.MILLISECONDS);
            assertEquals("baseline-thumbnail@v6", repos.write(Modality.RADIOLOGY, l -> l.encoder().id()));
        } finally {
            announcer.shutdownNow();
        }
    }

    @Test
    void anEmbeddedStoreDropsThePinsOfAnEarlierRunAtStart() {
        factory.aliases().point("pin--crashed--reports-radiology", "reports-radiology");
        repos.close();
        repos = repositories();
        assertFalse(factory.aliases().all().containsKey("pin--crashed--reports-radiology"), "one process owns an embedded store");
        assertEquals("reports-radiology", factory.aliases().all().get("pin--test-replica--reports-radiology"), "its own pin again");
    }

    @Test
    void aWriteReleasesTheWriterLockForOtherThreads() throws Exception {
        assertEquals("baseline-thumbnail@1", repos.write(Modality.RADIOLOGY, l -> l.encoder().id()));
        var other = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            assertEquals("baseline-thumbnail@1", other.submit(() -> repos.write(Modality.RADIOLOGY, l -> l.encoder().id()))
                    .get(30, java.util.concurrent.TimeUnit.SECONDS));
        } finally {
            other.shutdownNow();
        }
    }

    /** A factory that records the collections it opens and can run a hook before it opens one (another replica acting). */
    static final class RecordingFactory extends CollectionFactory {
        final List<VectorCollection> opened = new java.util.concurrent.CopyOnWriteArrayList<>();
        volatile java.util.function.Consumer<String> beforeOpen = n -> {
        };
        /** A handle to return instead of opening (null: open). */
        volatile java.util.function.Function<String, VectorCollection> handle = n -> null;

        RecordingFactory(Path dir) {
            super(dir, "embedded", "localhost", 6334, false, " ", "t_", 16, 100, true, 1, 1, 256, 30);
        }

        @Override
        public VectorCollection open(String name) {
            beforeOpen.accept(name);
            VectorCollection h = handle.apply(name);
            if (h != null) {
                return h;
            }
            VectorCollection c = super.open(name);
            opened.add(c);
            return c;
        }

        VectorCollection last(String name) {
            VectorCollection found = null;
            for (VectorCollection c : opened) {
                if (c.name().equals(name)) {
                    found = c;
                }
            }
            return found;
        }
    }

    /** An empty collection, as another replica's re-index leaves it before it points an alias at it. */
    void made(String name) {
        try (VectorCollection c = factory.open(name)) {
            c.create(256);
        }
    }

    /** Models that record every image encoder asked for and loaded (one more MiniLM per JVM, built once). */
    static final class RecordingModels extends Models {
        final List<Path> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
        final List<io.heterorag.model.image.ImageEncoder> loaded = new java.util.concurrent.CopyOnWriteArrayList<>();

        RecordingModels(Path dir) {
            super(dir, 0, "cpu", new io.micrometer.core.instrument.simple.SimpleMeterRegistry(), java.util.Optional.empty(),
                    java.util.Optional.empty(), java.util.Optional.empty(), 4, 500, java.util.Optional.empty(), java.util.Optional.empty());
        }

        @Override
        public io.heterorag.model.image.ImageEncoder loadImageEncoder(Path bundle) {
            asked.add(bundle);
            io.heterorag.model.image.ImageEncoder e = super.loadImageEncoder(bundle);
            loaded.add(e);
            return e;
        }

        io.heterorag.model.image.ImageEncoder last() {
            return loaded.get(loaded.size() - 1);
        }
    }

    static RecordingModels recordingModels;

    /** This test's repositories again, over the recording models (and the recording factory). */
    RecordingModels recordingModels(RecordingFactory f) throws IOException {
        synchronized (ReportRepositoriesTest.class) {
            if (recordingModels == null) {
                recordingModels = new RecordingModels(Files.createTempDirectory(Path.of("target"), "recording-models"));
            }
        }
        repos.close();
        models = recordingModels;
        factory = f;
        repos = repositories();
        recordingModels.asked.clear();
        recordingModels.loaded.clear();
        return recordingModels;
    }

    /** Whether an encoder's session is closed: it refuses to embed. */
    static boolean closed(io.heterorag.model.image.ImageEncoder e) {
        try {
            e.embed(List.of(ImageDecoder.decode(TestData.image(IMAGE), "")));
            return false;
        } catch (IllegalStateException ex) {
            return true;
        }
    }

    /** Another handle on an open collection (as Qdrant gives one per open), which records its close and closes nothing. */
    static VectorCollection handle(VectorCollection open, java.util.concurrent.atomic.AtomicBoolean closed) {
        return (VectorCollection) java.lang.reflect.Proxy.newProxyInstance(VectorCollection.class.getClassLoader(),
                new Class<?>[] {VectorCollection.class}, (proxy, method, args) -> {
                    if (method.getName().equals("close")) {
                        closed.set(true);
                        return null;
                    }
                    try {
                        return method.invoke(open, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @Test
    void reindexingTheServingEncoderClosesTheCopyItLoaded() throws IOException {
        RecordingModels rm = recordingModels(new RecordingFactory(dir));
        io.heterorag.model.image.ImageEncoder serving;
        try (ReportRepositories.Lease l = repos.lease(Modality.RADIOLOGY)) {
            serving = l.encoder();
        }
        assertEquals("baseline-thumbnail@1", repos.reindex(Modality.RADIOLOGY, rm.configuredImageBundle(Modality.RADIOLOGY)));
        assertEquals(1, rm.loaded.size());
        assertTrue(closed(rm.last()), "the encoder loaded for the re-index is closed");
        assertFalse(closed(serving), "the serving one is not");
    }

    @Test
    void aRepositoryWaitingForItsBundleLoadsNoEncoder() throws Exception {
        RecordingModels rm = recordingModels(new RecordingFactory(dir));
        String target = "reports-pathology--baseline-thumbnail_v13";
        made(target);
        factory.aliases().point("serving--reports-pathology", target);
        repos.followAll();
        assertEquals("reports-pathology", repos.servingCollection(Modality.PATHOLOGY));
        assertEquals(List.of(), rm.asked, "nothing loaded while the bundle is not known");
    }

    @Test
    void anAnnouncementAgainForTheServedCollectionClosesWhatTheReindexOpened() throws Exception {
        RecordingFactory f = new RecordingFactory(dir);
        RecordingModels rm = recordingModels(f);
        Path bundle = newVersion("v12");
        String target = "reports-radiology--baseline-thumbnail_v12";
        assertEquals("baseline-thumbnail@v12", repos.reindex(Modality.RADIOLOGY, bundle));
        VectorCollection served;
        io.heterorag.model.image.ImageEncoder servedEncoder;
        try (ReportRepositories.Lease l = repos.lease(Modality.RADIOLOGY)) {
            served = l.collection();
            servedEncoder = l.encoder();
        }
        // another replica moved the alias on, with an encoder this one has not heard of: it keeps serving target
        made("reports-radiology--elsewhere");
        f.aliases().point("serving--reports-radiology", "reports-radiology--elsewhere");
        // then the announcement of v12 comes again; opening target gives another handle on it (as on Qdrant)
        var handleClosed = new java.util.concurrent.atomic.AtomicBoolean();
        f.handle = n -> n.equals(target) ? handle(served, handleClosed) : null;
        rm.loaded.clear();
        assertEquals("baseline-thumbnail@v12", repos.reindex(Modality.RADIOLOGY, bundle));
        assertEquals(target, repos.servingCollection(Modality.RADIOLOGY));
        assertEquals(target, f.aliases().all().get("serving--reports-radiology"));
        assertTrue(handleClosed.get(), "the handle the re-index opened is closed");
        assertFalse(f.last("reports-radiology--elsewhere").isOpen(), "and the source collection it opened to copy from");
        assertTrue(served.isOpen(), "the served collection is not");
        assertEquals(1, rm.loaded.size());
        assertTrue(closed(rm.last()), "the encoder the re-index loaded is closed");
        assertFalse(closed(servedEncoder), "the served one is not");
        try (ReportRepositories.Lease l = repos.lease(Modality.RADIOLOGY)) {
            assertEquals(served, l.collection());
        }
    }

    @Test
    void aServingReplicaFollowsAnotherReplicasSwapAndCopiesWhatTheNewCollectionLacks() throws Exception {
        store(Modality.RADIOLOGY, 2);
        Path bundle = newVersion("v7");
        String target = "reports-radiology--baseline-thumbnail_v7";
        made(target);
        factory.aliases().point("serving--reports-radiology", target); // another replica re-indexed before these two were written
        assertEquals("reports-radiology", repos.servingCollection(Modality.RADIOLOGY), "its bundle is not known yet");
        repos.follow(Modality.RADIOLOGY, bundle);
        assertEquals(target, repos.servingCollection(Modality.RADIOLOGY));
        try (ReportRepositories.Lease l = repos.lease(Modality.RADIOLOGY)) {
            assertEquals("baseline-thumbnail@v7", l.encoder().id());
            assertEquals(2, l.collection().count(), "what this replica wrote to the old collection is copied");
        }
        assertEquals(target, factory.aliases().all().get("pin--test-replica--" + target));
        eventually(() -> !Files.exists(factory.root().resolve("reports-radiology")), "the old collection dropped");
        assertFalse(factory.aliases().all().containsKey("pin--test-replica--reports-radiology"));
    }

    @Test
    void reindexingWhatTheStoreAlreadyServesFollowsItAtOnce() throws Exception {
        Path bundle = newVersion("v8");
        String target = "reports-pathology--baseline-thumbnail_v8";
        made(target);
        factory.aliases().point("serving--reports-pathology", target); // another replica re-indexed it
        assertEquals("baseline-thumbnail@v8", repos.reindex(Modality.PATHOLOGY, bundle));
        assertEquals(target, repos.servingCollection(Modality.PATHOLOGY));
        try (ReportRepositories.Lease l = repos.lease(Modality.PATHOLOGY)) {
            assertEquals("baseline-thumbnail@v8", l.encoder().id());
        }
    }

    @Test
    void aReplicaThatStopsRemovesItsPins() {
        assertEquals("reports-radiology", factory.aliases().all().get("pin--test-replica--reports-radiology"));
        repos.onStop(null);
        Map<String, String> all = factory.aliases().all();
        assertFalse(all.keySet().stream().anyMatch(a -> a.startsWith("pin--test-replica--")), "pins left: " + all);
        assertEquals("reports-radiology", repos.servingCollection(Modality.RADIOLOGY), "it still serves until closed");
    }

    @Test
    void closingClosesTheServedEncodersAndBatchers() {
        BufferedImage img = ImageDecoder.decode(TestData.image(IMAGE), "");
        ReportRepositories.Lease l = repos.lease(Modality.RADIOLOGY);
        l.close();
        repos.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> l.embed(img));
        assertEquals("batcher is closed", e.getMessage());
        assertThrows(IllegalStateException.class, () -> l.encoder().embed(List.of(img)), "the encoder's session is closed");
        assertFalse(l.collection().isOpen());
    }

    @Test
    void aStoreThatMovesOnBeforeThePinLeavesNothingPinnedOrOpen() throws Exception {
        RecordingFactory f = new RecordingFactory(dir);
        RecordingModels rm = recordingModels(f);
        Path bundle = newVersion("v9");
        String target = "reports-radiology--baseline-thumbnail_v9";
        made(target);
        made("reports-radiology--elsewhere");
        f.opened.clear();
        // another replica flips the alias again while this one opens target
        f.beforeOpen = n -> {
            if (n.equals(target)) {
                f.aliases().point("serving--reports-radiology", "reports-radiology--elsewhere");
            }
        };
        f.aliases().point("serving--reports-radiology", target);
        repos.follow(Modality.RADIOLOGY, bundle);
        assertEquals("reports-radiology", repos.servingCollection(Modality.RADIOLOGY), "target was not switched to");
        VectorCollection c = f.last(target);
        assertFalse(c == null || c.isOpen(), "target opened and closed again");
        assertFalse(f.aliases().all().containsKey("pin--test-replica--" + target), "nor left pinned");
        assertFalse(rm.loaded.isEmpty());
        assertTrue(rm.asked.stream().allMatch(bundle::equals), "only target's encoder loaded: " + rm.asked);
        assertTrue(rm.loaded.stream().allMatch(ReportRepositoriesTest::closed), "and closed again");
        try (ReportRepositories.Lease l = repos.lease(Modality.RADIOLOGY)) {
            assertTrue(l.collection().isOpen());
        }
    }

    @Test
    void aReindexThatFailsKeepsServingClosesTheNewCollectionAndKeepsItPinnedToResume() throws Exception {
        RecordingFactory f = new RecordingFactory(dir);
        RecordingModels rm = recordingModels(f);
        float[] v;
        try (ReportRepositories.Lease l = repos.lease(Modality.OPHTHALMOLOGY)) {
            v = new float[l.encoder().dimension()];
        }
        v[0] = 1;
        var bad = List.of(new VectorCollection.Entry("x", "x", "h", "", "not an image", v, new byte[] {1, 2, 3}, Map.of()));
        repos.write(Modality.OPHTHALMOLOGY, l -> {
            l.collection().upsert(bad);
            return null;
        });
        String target = "reports-ophthalmology--baseline-thumbnail_v10";
        assertThrows(RuntimeException.class, () -> repos.reindex(Modality.OPHTHALMOLOGY, newVersion("v10")));
        assertEquals("reports-ophthalmology", repos.servingCollection(Modality.OPHTHALMOLOGY));
        assertFalse(f.last(target).isOpen(), "the new collection closed");
        assertTrue(closed(rm.last()), "the new encoder closed");
        assertEquals(target, f.aliases().all().get("pin--test-replica--" + target), "pinned while its build is unfinished");
        assertFalse(f.aliases().all().containsKey("serving--reports-ophthalmology"));
        try (ReportRepositories.Lease l = repos.lease(Modality.OPHTHALMOLOGY)) {
            assertEquals(1, l.collection().count());
        }
    }

    @Test
    void aCollectionServedAgainBeforeItsReleaseKeepsItsPin() throws Exception {
        ReportRepositories.Lease held = repos.lease(Modality.RADIOLOGY);
        String target = "reports-radiology--baseline-thumbnail_v11";
        repos.reindex(Modality.RADIOLOGY, newVersion("v11"));
        assertEquals(target, repos.servingCollection(Modality.RADIOLOGY));
        repos.write(Modality.RADIOLOGY, l -> {
            // the alias goes back; the follower starts switching back and waits for this writer lock
            factory.aliases().point("serving--reports-radiology", "reports-radiology");
            try {
                Thread.sleep(800);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            held.close(); // the old pair closes: its release is queued behind the follower's switch
            return null;
        });
        eventually(() -> "reports-radiology".equals(repos.servingCollection(Modality.RADIOLOGY)), "served again");
        eventually(() -> !Files.exists(factory.root().resolve(target)), "the collection it left dropped");
        assertEquals("reports-radiology", factory.aliases().all().get("pin--test-replica--reports-radiology"),
                "the release of the earlier pair does not unpin the collection served again");
        try (ReportRepositories.Lease l = repos.lease(Modality.RADIOLOGY)) {
            assertTrue(l.collection().isOpen());
        }
    }
}

package io.heterorag.retrieval.store;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import io.grpc.Status;
import io.heterorag.model.bundle.MicroBatcher;
import io.heterorag.model.bundle.ModelBundles;
import io.heterorag.model.image.ImageDecoder;
import io.heterorag.model.image.ImageEncoder;
import io.heterorag.proto.v1.Modality;
import io.heterorag.retrieval.config.RetrievalConfig;
import io.heterorag.retrieval.model.Models;
import io.heterorag.store.CollectionAliases;
import io.heterorag.store.VectorCollection;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;

/**
 * The report repositories, one per modality: each serves an (image encoder, collection) pair whose
 * vectors that encoder made. Which collection serves a repository lives in the store, as the alias
 * {@code serving--reports-<modality>}, so every replica on the store serves the same one:
 * <ul>
 * <li>a new encoder is re-indexed once, by the replica that gets the announcement in the shared
 * consumer group ({@link #reindex}): it re-embeds the stored images into a new collection, then flips
 * the alias;</li>
 * <li>every replica hears every announcement (its own consumer group) and so knows which bundle made
 * which collection ({@link #follow}); it polls the alias and switches its reads when the alias points at
 * a collection whose bundle it knows. Requests hold a lease on the pair they started with; the old pair
 * closes when its last lease ends;</li>
 * <li>each replica pins the collections it still reads (alias {@code pin--<replica>--<collection>}),
 * and a collection is dropped only when no alias points at it: the last replica to move off drops it.</li>
 * </ul>
 * Ingest writes go to the pair the replica serves. A replica that switched copies the reports it (or
 * anyone) wrote to the old collection after the re-index had passed them, so nothing ingested during
 * a swap is lost (reports added, not reports changed: see docs/storage.md, "Many replicas").
 */
@Singleton
@Startup
public class ReportRepositories {

    private final Path root;
    private final CollectionFactory collections;
    private final CollectionAliases aliases;
    private final Models models;
    private final String replica;
    /** A modality's serving pair; null while the bundle of the collection the store serves is not known here. */
    private final Map<Modality, AtomicReference<Serving>> serving = new EnumMap<>(Modality.class);
    private final Map<Modality, ReentrantLock> writers = new EnumMap<>(Modality.class);
    /** The bundle whose encoder made each collection, as far as this replica has heard. */
    private final Map<String, Path> bundles = new ConcurrentHashMap<>();
    private final Set<String> waitingLogged = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService follower;
    private final java.util.concurrent.atomic.AtomicBoolean unpinned = new java.util.concurrent.atomic.AtomicBoolean();

    @Inject
    public ReportRepositories(CollectionFactory collections, Models models, RetrievalConfig config) {
        this(collections, models, config.retrieval().replicaId(), config.retrieval().aliasPollMs());
    }

    public ReportRepositories(CollectionFactory collections, Models models,
            // names this replica's pins; distinct per process (the pod name in Kubernetes)
            String replicaId,
            // how often the serving aliases are read
            long pollMillis) {
        this.collections = collections;
        this.root = collections.root();
        this.aliases = collections.aliases();
        this.models = models;
        this.replica = replicaId.replaceAll("[^A-Za-z0-9_-]", "_");
        for (Modality m : Modality.values()) {
            if (m == Modality.MODALITY_UNSPECIFIED || m == Modality.UNRECOGNIZED) {
                continue;
            }
            serving.put(m, new AtomicReference<>());
            writers.put(m, new ReentrantLock());
            bundles.put(baseName(m), models.configuredImageBundle(m));
            Properties p = readPointer(m);
            if (p.containsKey("collection") && p.containsKey("bundle")) {
                bundles.put(p.getProperty("collection"), Path.of(p.getProperty("bundle")));
            }
        }
        if (collections.embedded()) {
            // one process owns an embedded store (docs/storage.md): pins left by an earlier run that crashed are stale
            try {
                aliases.all().keySet().stream().filter(a -> a.startsWith("pin--")).forEach(aliases::remove);
            } catch (RuntimeException e) {
                Log.warnf("stale pins not removed: %s", e.getMessage());
            }
        }
        followAll(); // the store may be unreachable: then the follower serves once it answers
        this.follower = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "report-repositories-follower");
            t.setDaemon(true);
            return t;
        });
        follower.scheduleWithFixedDelay(this::followAll, pollMillis, pollMillis, TimeUnit.MILLISECONDS);
    }

    /** The pair serving a modality, held until the lease is closed. */
    public final class Lease implements AutoCloseable {
        private final Serving s;

        private Lease(Serving s) {
            this.s = s;
        }

        public ImageEncoder encoder() {
            return s.encoder;
        }

        /**
         * One request's image embedding: preprocessed in the caller's thread, then micro-batched with
         * concurrent requests to the same encoder.
         */
        public float[] embed(BufferedImage image) {
            return s.batcher.submit(s.encoder.pixels(image));
        }

        public VectorCollection collection() {
            return s.collection;
        }

        @Override
        public void close() {
            s.release();
        }
    }

    public Lease lease(Modality m) {
        AtomicReference<Serving> ref = serving.get(m);
        if (ref == null) {
            throw new IllegalArgumentException("unknown modality " + m);
        }
        while (true) {
            Serving s = ref.get();
            if (s == null) {
                throw Status.UNAVAILABLE.withDescription(baseName(m) + " is not served yet: this replica waits for the announcement "
                        + "of the encoder that built the collection the store serves").asRuntimeException();
            }
            s.inFlight.incrementAndGet();
            if (!s.retired) {
                return new Lease(s);
            }
            s.release(); // swapped meanwhile: take the new one
        }
    }

    /**
     * Runs a write under the modality's writer lock, so a re-index or a switch never misses an entry.
     * Waits up to a minute for a repository this replica does not serve yet (it just started).
     */
    public <T> T write(Modality m, Function<Lease, T> body) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (serving.get(m) != null && serving.get(m).get() == null && System.nanoTime() < end) {
            followAll();
            sleep(200);
        }
        ReentrantLock lock = writers.get(m);
        lock.lock();
        try (Lease l = lease(m)) {
            return body.apply(l);
        } finally {
            lock.unlock();
        }
    }

    /**
     * An announced encoder, on every replica: remembers which collection its bundle makes, and serves
     * that collection if the store already serves it (a replica starting after the swap).
     */
    public void follow(Modality m, Path bundle) {
        var manifest = ModelBundles.read(bundle);
        bundles.put(collectionFor(m, manifest.getName() + "@" + manifest.getVersion()), bundle);
        followAll();
    }

    /**
     * An announced encoder, on the one replica that re-indexes it: loads the bundle, re-embeds every
     * stored image of the repository the store serves into the encoder's collection (resuming one cut
     * short: entries already there unchanged are skipped), points the serving alias at it and switches.
     * Returns the encoder id; does nothing if it already serves.
     */
    public String reindex(Modality m, Path bundle) {
        ImageEncoder enc = models.loadImageEncoder(bundle);
        String target = collectionFor(m, enc.id());
        bundles.put(target, bundle);
        ReentrantLock lock = writers.get(m);
        lock.lock();
        try {
            String source = servedCollection(m, aliases.all());
            Serving cur = serving.get(m).get();
            if (target.equals(source) || (cur != null && cur.name.equals(source) && cur.encoder.id().equals(enc.id()))) {
                enc.close();
                followAll();
                return serving.get(m).get() == null ? target : serving.get(m).get().encoder.id();
            }
            boolean own = cur != null && cur.name.equals(source);
            VectorCollection from = own ? cur.collection : collections.open(source);
            VectorCollection fresh = collections.open(target);
            try {
                fresh.create(enc.dimension());
                pin(target); // while building: a replica moving off an older generation must not drop it
                long t0 = System.nanoTime();
                int n = copy(from, fresh, enc, false);
                aliases.point(servingAlias(m), target);
                Log.infof("%s re-indexed into %s: %d reports re-embedded in %.1f s; the serving alias points at it", baseName(m),
                        target, n, (System.nanoTime() - t0) / 1e9);
            } catch (RuntimeException e) {
                fresh.close();
                enc.close();
                throw e;
            } finally {
                if (!own) {
                    from.close();
                }
            }
            // this replica's writes waited for the lock, so the copy missed none of them
            switchTo(m, target, enc, fresh, own);
            return enc.id();
        } finally {
            lock.unlock();
        }
    }

    /** Reads the serving aliases and switches every repository whose collection changed (and whose bundle is known). */
    void followAll() {
        Map<String, String> all;
        try {
            all = aliases.all();
        } catch (RuntimeException e) {
            Log.debugf("serving aliases not readable: %s", e.getMessage());
            return;
        }
        for (Modality m : serving.keySet()) {
            String want = servedCollection(m, all);
            Serving cur = serving.get(m).get();
            if (cur != null && cur.name.equals(want)) {
                continue;
            }
            try {
                switchTo(m, want, null, null, false);
            } catch (RuntimeException e) {
                Log.warnf("%s: cannot switch to %s yet: %s", baseName(m), want, e.getMessage());
            }
        }
    }

    /**
     * Serves target: pins it, opens it with its encoder (given, or loaded from the known bundle), swaps
     * it in, copies what the old collection has and it lacks (unless the caller copied already), and
     * retires the old pair. Does nothing while target's bundle is not known.
     */
    private void switchTo(Modality m, String target, ImageEncoder enc, VectorCollection opened, boolean caughtUp) {
        Path bundle = bundles.get(target);
        if (enc == null && bundle == null) {
            if (waitingLogged.add(target)) {
                Log.infof("%s: the store serves %s, whose encoder bundle this replica has not heard of yet", baseName(m), target);
            }
            return;
        }
        ReentrantLock lock = writers.get(m);
        lock.lock();
        try {
            AtomicReference<Serving> ref = serving.get(m);
            Serving old = ref.get();
            if (old != null && old.name.equals(target)) {
                if (enc != null && enc != old.encoder) {
                    enc.close();
                }
                if (opened != null && opened != old.collection) {
                    opened.close();
                }
                return;
            }
            ImageEncoder e = enc != null ? enc : models.loadImageEncoder(bundle);
            VectorCollection c = opened != null ? opened : collections.open(target);
            try {
                c.create(e.dimension());
                pin(target);
                // pinned, then checked: a collection dropped before the pin is no longer the one served
                if (!target.equals(servedCollection(m, aliases.all()))) {
                    throw new IllegalStateException("the store moved on from " + target);
                }
            } catch (RuntimeException ex) {
                unpin(target);
                c.close();
                e.close();
                throw ex;
            }
            if (old != null && !caughtUp) {
                // before reads move: this replica never stops finding what it wrote
                int n = copy(old.collection, c, e, true);
                if (n > 0) {
                    Log.infof("%s: %d reports written to %s during the swap copied to %s", baseName(m), n, old.name, target);
                }
            }
            ref.set(new Serving(m, target, e, c));
            waitingLogged.remove(target);
            if (old != null) {
                old.retire();
            }
            if (bundle != null) {
                writePointer(m, target, bundle);
            }
            Log.infof("%s now served by %s in %s (was %s)", baseName(m), e.id(), target, old == null ? "none" : old.encoder.id());
        } finally {
            lock.unlock();
        }
    }

    /**
     * Re-embeds from's entries with enc into to, a batch at a time. Entries whose group to already
     * holds unchanged are skipped (a resumed re-index); with onlyMissing, every group to holds is.
     */
    private static int copy(VectorCollection from, VectorCollection to, ImageEncoder enc, boolean onlyMissing) {
        List<VectorCollection.Entry> batch = new ArrayList<>();
        AtomicInteger count = new AtomicInteger();
        Runnable flush = () -> {
            Map<String, String> have = to.storedHashes(batch.stream().map(VectorCollection.Entry::group).distinct().toList());
            List<VectorCollection.Entry> todo = batch.stream()
                    .filter(e -> !have.containsKey(e.group()) || (!onlyMissing && !have.get(e.group()).equals(e.hash()))).toList();
            if (!todo.isEmpty()) {
                to.upsert(reembed(enc, todo));
                count.addAndGet(todo.size());
            }
            batch.clear();
        };
        from.forEach(e -> {
            batch.add(e);
            if (batch.size() == Models.BULK_BATCH) {
                flush.run();
            }
        });
        if (!batch.isEmpty()) {
            flush.run();
        }
        return count.get();
    }

    private static List<VectorCollection.Entry> reembed(ImageEncoder enc, List<VectorCollection.Entry> batch) {
        List<BufferedImage> images = new ArrayList<>();
        for (VectorCollection.Entry e : batch) {
            images.add(ImageDecoder.decode(e.blob(), ""));
        }
        float[][] v = enc.embed(images);
        List<VectorCollection.Entry> out = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
            VectorCollection.Entry e = batch.get(i);
            out.add(new VectorCollection.Entry(e.id(), e.group(), e.hash(), e.title(), e.text(), v[i], e.blob(), e.metadata()));
        }
        return out;
    }

    /** Entries per repository ("reports-radiology", …) this replica serves. */
    public Map<String, Long> counts() {
        Map<String, Long> out = new java.util.LinkedHashMap<>();
        for (Modality m : serving.keySet()) {
            if (serving.get(m).get() != null) {
                try (Lease l = lease(m)) {
                    out.put(baseName(m), l.collection().count());
                }
            }
        }
        return out;
    }

    /** Every repository served (none waiting for its encoder) and its collection reachable. */
    public boolean isOpen() {
        return serving.values().stream().allMatch(r -> r.get() != null && r.get().collection.isOpen());
    }

    /** The collection serving a modality in this replica, or null while it waits. */
    public String servingCollection(Modality m) {
        Serving s = serving.get(m).get();
        return s == null ? null : s.name;
    }

    static String baseName(Modality m) {
        return "reports-" + m.name().toLowerCase(Locale.ROOT);
    }

    /** The collection an encoder's vectors of a repository go to. */
    static String collectionFor(Modality m, String encoderId) {
        return baseName(m) + "--" + encoderId.replaceAll("[^A-Za-z0-9_-]", "_");
    }

    static String servingAlias(Modality m) {
        return "serving--" + baseName(m);
    }

    private String pinAlias(String collection) {
        return "pin--" + replica + "--" + collection;
    }

    /** The serving alias's collection; before any swap, what this replica served last (a data dir from before aliases) or the base. */
    private String servedCollection(Modality m, Map<String, String> all) {
        String aliased = all.get(servingAlias(m));
        return aliased != null ? aliased : readPointer(m).getProperty("collection", baseName(m));
    }

    private void pin(String collection) {
        if (CollectionAliases.NAME.matcher(collection).matches()) { // a collection named before aliases has '@': never shared
            aliases.point(pinAlias(collection), collection);
        }
    }

    private void unpin(String collection) {
        try {
            if (CollectionAliases.NAME.matcher(collection).matches()) {
                aliases.remove(pinAlias(collection));
            }
        } catch (RuntimeException e) {
            Log.warnf("pin of %s not removed (it keeps the collection until removed by hand): %s", collection, e.getMessage());
        }
    }

    /** After this replica stopped reading it: unpins the collection and drops it if no alias points at it any more. */
    private void released(Modality m, String name) {
        Serving cur = serving.get(m).get();
        if (cur != null && cur.name.equals(name)) {
            return; // served again meanwhile
        }
        unpin(name);
        try {
            Map<String, String> all = aliases.all();
            if (!all.containsValue(name) && !name.equals(servedCollection(m, all))) {
                collections.open(name).drop();
                Log.infof("%s dropped: no replica reads it", name);
            }
        } catch (RuntimeException e) {
            Log.warnf("%s not dropped: %s", name, e.getMessage());
        }
    }

    private Path pointer(Modality m) {
        return root.resolve(baseName(m) + ".serving");
    }

    private Properties readPointer(Modality m) {
        Properties p = new Properties();
        if (Files.exists(pointer(m))) {
            try (Reader r = Files.newBufferedReader(pointer(m))) {
                p.load(r);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return p;
    }

    /** This replica's note of the bundle that made the collection it serves (so a restart serves it at once). */
    private void writePointer(Modality m, String collection, Path bundle) {
        Properties p = new Properties();
        p.setProperty("collection", collection);
        p.setProperty("bundle", bundle.toAbsolutePath().toString());
        try {
            Files.createDirectories(root);
            Path tmp = root.resolve(baseName(m) + ".serving.tmp");
            try (Writer w = Files.newBufferedWriter(tmp)) {
                p.store(w, "which encoder bundle made the collection this replica serves");
            }
            Files.move(tmp, pointer(m), java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** One serving pair with its in-flight count; a retired pair closes when idle, then is unpinned and dropped if unused. */
    private final class Serving {
        final Modality modality;
        final String name;
        final ImageEncoder encoder;
        final MicroBatcher<float[], float[]> batcher;
        final VectorCollection collection;
        final AtomicInteger inFlight = new AtomicInteger();
        volatile boolean retired;
        private boolean closed;

        Serving(Modality modality, String name, ImageEncoder encoder, VectorCollection collection) {
            this.modality = modality;
            this.name = name;
            this.encoder = encoder;
            this.batcher = models.batcher("image-" + encoder.id(), encoder::embedEach);
            this.collection = collection;
        }

        void retire() {
            retired = true;
            if (inFlight.get() == 0) {
                close(true);
            }
        }

        void release() {
            if (inFlight.decrementAndGet() == 0 && retired) {
                close(true);
            }
        }

        synchronized void close(boolean release) {
            if (closed) {
                return;
            }
            closed = true;
            batcher.close();
            encoder.close();
            collection.close();
            if (release) {
                // off the request thread: unpinning and dropping are calls to the store
                follower.execute(() -> released(modality, name));
            }
        }
    }

    /** A replica that stops reads nothing: its pins go (before the store's connection closes); one that crashes leaves them (docs/storage.md). */
    void onStop(@Observes ShutdownEvent event) {
        unpinAll();
    }

    private void unpinAll() {
        if (unpinned.compareAndSet(false, true)) {
            follower.shutdownNow();
            serving.values().forEach(r -> {
                Serving s = r.get();
                if (s != null) {
                    unpin(s.name);
                }
            });
        }
    }

    @PreDestroy
    void close() {
        unpinAll();
        serving.values().forEach(r -> {
            Serving s = r.get();
            if (s != null) {
                s.close(false);
            }
        });
    }
}

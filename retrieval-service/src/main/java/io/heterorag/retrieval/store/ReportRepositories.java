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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;

import io.heterorag.model.image.ImageDecoder;
import io.heterorag.model.image.ImageEncoder;
import io.heterorag.model.bundle.MicroBatcher;
import io.heterorag.proto.v1.Modality;
import io.heterorag.retrieval.model.Models;
import io.heterorag.store.VectorCollection;
import io.quarkus.logging.Log;
import io.quarkus.runtime.Startup;

/**
 * The report repositories, one per modality: each serves an (image encoder, collection) pair whose
 * vectors that encoder made. A new encoder (a promoted ModCLIP) is swapped in by re-embedding the
 * repository's stored images into a new collection while the old pair keeps serving; requests hold a
 * lease on the pair they started with, and the old pair is closed once its last lease ends. Which
 * pair serves is recorded on disk, so a restart serves the same one.
 */
@Singleton
@Startup
public class ReportRepositories {

    private final Path root;
    private final CollectionFactory collections;
    private final Models models;
    private final Map<Modality, AtomicReference<Serving>> serving = new EnumMap<>(Modality.class);
    private final Map<Modality, ReentrantLock> writers = new EnumMap<>(Modality.class);

    public ReportRepositories(CollectionFactory collections, Models models) {
        this.collections = collections;
        this.root = collections.root();
        this.models = models;
        for (Modality m : Modality.values()) {
            if (m == Modality.MODALITY_UNSPECIFIED || m == Modality.UNRECOGNIZED) {
                continue;
            }
            Properties p = readPointer(m);
            String dir = p.getProperty("collection", baseName(m));
            Path bundle = p.containsKey("bundle") ? Path.of(p.getProperty("bundle")) : models.configuredImageBundle(m);
            serving.put(m, new AtomicReference<>(new Serving(models.loadImageEncoder(bundle), collections.open(dir))));
            writers.put(m, new ReentrantLock());
        }
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
            s.inFlight.incrementAndGet();
            if (!s.retired) {
                return new Lease(s);
            }
            s.release(); // swapped meanwhile: take the new one
        }
    }

    /** Runs a write under the modality's writer lock, so a re-index never misses an entry. */
    public <T> T write(Modality m, Function<Lease, T> body) {
        ReentrantLock lock = writers.get(m);
        lock.lock();
        try (Lease l = lease(m)) {
            return body.apply(l);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Loads the bundle, re-embeds every stored image of the modality's repository with it into a new
     * collection, then switches to it. Returns the new encoder id; does nothing if it already serves.
     */
    public String swap(Modality m, Path bundle) {
        ReentrantLock lock = writers.get(m);
        lock.lock();
        try {
            Serving old = serving.get(m).get();
            ImageEncoder enc = models.loadImageEncoder(bundle);
            if (enc.id().equals(old.encoder.id())) {
                enc.close();
                return old.encoder.id();
            }
            String dirName = baseName(m) + "@" + enc.id().replaceAll("[^A-Za-z0-9._-]", "_");
            collections.open(dirName).drop(); // a re-index cut short earlier
            VectorCollection fresh = collections.open(dirName);
            long t0 = System.nanoTime();
            List<VectorCollection.Entry> batch = new ArrayList<>();
            AtomicInteger count = new AtomicInteger();
            old.collection.forEach(e -> {
                batch.add(e);
                if (batch.size() == Models.BULK_BATCH) {
                    fresh.upsert(reembed(enc, batch));
                    count.addAndGet(batch.size());
                    batch.clear();
                }
            });
            if (!batch.isEmpty()) {
                fresh.upsert(reembed(enc, batch));
                count.addAndGet(batch.size());
            }
            writePointer(m, dirName, bundle);
            serving.get(m).set(new Serving(enc, fresh));
            old.retire();
            Log.infof("%s now served by %s: %d reports re-embedded in %.1f s (was %s)", baseName(m), enc.id(), count.get(),
                    (System.nanoTime() - t0) / 1e9, old.encoder.id());
            return enc.id();
        } finally {
            lock.unlock();
        }
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

    /** Entries per repository ("reports-radiology", …). */
    public Map<String, Long> counts() {
        Map<String, Long> out = new java.util.LinkedHashMap<>();
        for (Modality m : serving.keySet()) {
            try (Lease l = lease(m)) {
                out.put(baseName(m), l.collection().count());
            }
        }
        return out;
    }

    public boolean isOpen() {
        return serving.values().stream().allMatch(r -> r.get().collection.isOpen());
    }

    static String baseName(Modality m) {
        return "reports-" + m.name().toLowerCase(Locale.ROOT);
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

    private void writePointer(Modality m, String collection, Path bundle) {
        Properties p = new Properties();
        p.setProperty("collection", collection);
        p.setProperty("bundle", bundle.toAbsolutePath().toString());
        try {
            Files.createDirectories(root);
            Path tmp = root.resolve(baseName(m) + ".serving.tmp");
            try (Writer w = Files.newBufferedWriter(tmp)) {
                p.store(w, "which encoder and collection serve this repository");
            }
            Files.move(tmp, pointer(m), java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One serving pair with its in-flight count; retired pairs close (and drop their collection) when idle. */
    private final class Serving {
        final ImageEncoder encoder;
        final MicroBatcher<float[], float[]> batcher;
        final VectorCollection collection;
        final AtomicInteger inFlight = new AtomicInteger();
        volatile boolean retired;
        private boolean closed;

        Serving(ImageEncoder encoder, VectorCollection collection) {
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

        synchronized void close(boolean dropFiles) {
            if (closed) {
                return;
            }
            closed = true;
            batcher.close();
            encoder.close();
            if (dropFiles) {
                collection.drop();
            } else {
                collection.close();
            }
        }
    }

    @PreDestroy
    void close() {
        serving.values().forEach(r -> r.get().close(false));
    }
}

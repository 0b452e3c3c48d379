package io.heterorag.generation.answer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import io.grpc.Deadline;
import io.heterorag.model.generation.ServedModel;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

/** A swap is atomic: requests keep the answerer they started with, which is closed after the last of them. */
class ServedAnswererTest {

    /** Counts its users and fails a request that reaches it after it was closed. */
    static final class Counting implements Answerer {
        final String id;
        final AtomicInteger inUse = new AtomicInteger();
        final AtomicBoolean closed = new AtomicBoolean();
        final AtomicInteger usedAfterClose = new AtomicInteger();
        final AtomicInteger inUseAtClose = new AtomicInteger(-1);

        Counting(String id) {
            this.id = id;
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public Answer answer(Question q, Deadline deadline, Consumer<Segment> onSegment) {
            inUse.incrementAndGet();
            if (closed.get()) {
                usedAfterClose.incrementAndGet();
            }
            Thread.onSpinWait();
            inUse.decrementAndGet();
            return new Answer(id, List.of(), List.of(), "", 0, 0, 0);
        }

        @Override
        public void close() {
            inUseAtClose.set(inUse.get());
            closed.set(true);
        }
    }

    static ServedAnswerer served(Answerer initial) {
        return new ServedAnswerer(initial, (dir, ep) -> {
            throw new UnsupportedOperationException();
        }, "cpu", 16, new GenerationMetrics(new SimpleMeterRegistry()));
    }

    @Test
    void aRequestInFlightFinishesOnTheOldAnswererWhichIsThenClosed() {
        Counting a = new Counting("a@1");
        Counting b = new Counting("b@1");
        ServedAnswerer served = served(a);
        ServedModel.Lease<Answerer> inFlight = served.acquire();
        served.swap(b);
        assertEquals("b@1", served.id());
        assertEquals("b@1", served.acquire().model().id(), "new requests get the new answerer");
        assertFalse(a.closed.get(), "closed while a request still held it");
        assertEquals("a@1", inFlight.model().id());
        inFlight.close();
        assertTrue(a.closed.get());
        inFlight.close(); // idempotent: no second release
        assertFalse(b.closed.get());
    }

    @Test
    void concurrentRequestsNeverReachAClosedAnswerer() throws Exception {
        List<Counting> all = new ArrayList<>();
        all.add(new Counting("g@0"));
        ServedAnswerer served = served(all.get(0));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        AtomicBoolean stop = new AtomicBoolean();
        List<Future<Integer>> workers = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            workers.add(pool.submit(() -> {
                int n = 0;
                while (!stop.get()) {
                    try (ServedModel.Lease<Answerer> l = served.acquire()) {
                        l.model().answer(null, null, s -> {
                        });
                        n++;
                    }
                }
                return n;
            }));
        }
        for (int v = 1; v <= 200; v++) {
            Counting next = new Counting("g@" + v);
            all.add(next);
            served.swap(next);
        }
        stop.set(true);
        int requests = 0;
        for (Future<Integer> w : workers) {
            requests += w.get(30, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertTrue(requests > 0);
        for (Counting c : all.subList(0, all.size() - 1)) {
            assertTrue(c.closed.get(), c.id + " was replaced but never closed");
            assertEquals(0, c.inUseAtClose.get(), c.id + " closed while in use");
            assertEquals(0, c.usedAfterClose.get(), c.id + " used after close");
        }
        assertFalse(all.get(all.size() - 1).closed.get());
    }

    /** A generator that only records its closing (the loader seam's product; nothing is generated). */
    static final class Closing implements io.heterorag.model.generation.Generator {
        final AtomicBoolean closed = new AtomicBoolean();

        public String id() {
            return "fake-generator@1";
        }

        public String family() {
            return "llava";
        }

        public int contextLength() {
            return 64;
        }

        public int countTokens(String text) {
            return text.length();
        }

        public int overheadTokens(io.heterorag.model.generation.GenerationInput input) {
            return 0;
        }

        public io.heterorag.model.generation.Generation generate(io.heterorag.model.generation.GenerationInput input,
                io.heterorag.model.generation.DecodingOptions options, Consumer<String> onText) {
            throw new UnsupportedOperationException();
        }

        public double logProb(io.heterorag.model.generation.GenerationInput input, String response) {
            throw new UnsupportedOperationException();
        }

        public void close() {
            closed.set(true);
        }
    }

    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path dir;

    java.nio.file.Path bundle(String generationConfig) throws java.io.IOException {
        java.nio.file.Path b = java.nio.file.Files.createDirectories(dir.resolve("bundle-" + System.nanoTime()));
        if (generationConfig != null) {
            java.nio.file.Files.writeString(b.resolve("generation_config.json"), generationConfig);
        }
        return b;
    }

    @Test
    void theAnswerBudgetComesFromGenerationConfigElseTheFallback() throws Exception {
        assertEquals(40, ServedAnswerer.bundleMaxNewTokens(bundle("{\"max_new_tokens\": 40}")));
        assertEquals(1, ServedAnswerer.bundleMaxNewTokens(bundle("{\"max_new_tokens\": 1}")));
        assertEquals(128, ServedAnswerer.bundleMaxNewTokens(bundle("{\"max_new_tokens\": 0}")));
        assertEquals(128, ServedAnswerer.bundleMaxNewTokens(bundle("{\"eos_token_id\": 3}")));
        java.nio.file.Path broken = bundle("{oops");
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> ServedAnswerer.bundleMaxNewTokens(broken));
        assertTrue(e.getMessage().startsWith("generator bundle " + broken + ": cannot read max_new_tokens from "
                + broken.resolve("generation_config.json") + ": "), e.getMessage());
        java.nio.file.Path none = bundle(null);
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> ServedAnswerer.bundleMaxNewTokens(none));
    }

    @Test
    void swapToLoadsTheBundleOnTheConfiguredProviderAndClosesAGeneratorWhoseBundleIsBroken() throws Exception {
        List<String> loads = new ArrayList<>();
        List<Closing> made = new ArrayList<>();
        Counting initial = new Counting("x@1");
        ServedAnswerer served = new ServedAnswerer(initial, (b, ep) -> {
            loads.add(b.getFileName() + " on " + ep);
            Closing g = new Closing();
            made.add(g);
            return g;
        }, "cuda", 0, new GenerationMetrics(new SimpleMeterRegistry()));
        java.nio.file.Path good = bundle("{\"max_new_tokens\": 8}");
        served.swapTo(good);
        assertEquals("fake-generator@1", served.id());
        assertEquals(List.of(good.getFileName() + " on cuda"), loads);
        assertTrue(initial.closed.get(), "the replaced answerer had no request left");
        assertFalse(made.get(0).closed.get());

        java.nio.file.Path broken = bundle(null);
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> served.swapTo(broken));
        assertTrue(made.get(1).closed.get(), "the generator of a bundle that cannot serve is closed");
        assertEquals("fake-generator@1", served.id(), "the served answerer stays");

        // a configured answer budget does not read the bundle's
        ServedAnswerer configured = new ServedAnswerer(new Counting("y@1"), (b, ep) -> new Closing(), "cpu", 32,
                new GenerationMetrics(new SimpleMeterRegistry()));
        configured.swapTo(bundle(null));
        assertEquals("fake-generator@1", configured.id());

        served.close();
        assertTrue(made.get(0).closed.get(), "closing the service closes the current answerer");
    }

    @Test
    void theOnnxLoaderNeedsABatchOfAtLeastOne() {
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> ServedAnswerer.onnx(1, new io.heterorag.model.generation.OnnxGenerator.Batching(0, java.time.Duration.ZERO)));
        assertTrue(ServedAnswerer.onnx(1, new io.heterorag.model.generation.OnnxGenerator.Batching(1, java.time.Duration.ZERO)) != null);
    }
}

package io.heterorag.model.bundle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import io.heterorag.model.image.BaselineImageBundle;
import io.heterorag.model.image.ImageDecoder;
import io.heterorag.model.image.ImageEncoder;
import io.heterorag.model.image.MedPixImages;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MicroBatcherTest {

    @TempDir
    Path dir;

    @Test
    void concurrentRequestsAreBatchedAndGetTheirOwnUnbatchedResult() throws Exception {
        ExecutionProviders.Choice cpu = ExecutionProviders.choose("cpu", 1);
        List<String> names = List.of("MPX1007_synpic46719", "MPX1009_synpic46283", "MPX1012_synpic22949", "MPX1014_synpic41745");
        List<BufferedImage> images = new ArrayList<>();
        for (String n : names) {
            images.add(ImageDecoder.decode(MedPixImages.bytes(n), ""));
        }
        ConcurrentLinkedQueue<Integer> sizes = new ConcurrentLinkedQueue<>();
        try (ImageEncoder enc = ImageEncoder.load(BaselineImageBundle.materialize(dir), cpu.options());
                MicroBatcher<BufferedImage, float[]> batcher = new MicroBatcher<>("test", in -> {
                    sizes.add(in.size());
                    return Arrays.asList(enc.embed(in));
                }, 8, 20_000)) {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            List<Future<float[]>> futures = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                BufferedImage img = images.get(i % images.size());
                futures.add(pool.submit(() -> batcher.submit(img)));
            }
            for (int i = 0; i < futures.size(); i++) {
                assertArrayEquals(enc.embed(List.of(images.get(i % images.size())))[0], futures.get(i).get(), 1e-5f,
                        "request " + i + " gets its own image's embedding");
            }
            pool.shutdown();
            assertEquals(64, sizes.stream().mapToInt(Integer::intValue).sum());
            assertTrue(sizes.stream().anyMatch(s -> s > 1), "some calls were batched: " + sizes);
            assertTrue(sizes.stream().allMatch(s -> s <= 8), "no batch above the maximum: " + sizes);
        } finally {
            cpu.options().close();
        }
    }

    @Test
    void aFailingModelCallFailsEveryRequestInItsBatch() {
        try (MicroBatcher<String, String> b = new MicroBatcher<>("failing", in -> {
            throw new IllegalArgumentException("bad input");
        }, 4, 1000)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.submit("x"));
            assertEquals("bad input", e.getMessage());
        }
    }

    /**
     * Waits (10 s at most) until each thread waits for its result in submit (CompletableFuture.get), so
     * its request is queued; WAITING alone could also be a wait for the queue's lock.
     */
    static void awaitQueued(List<Thread> threads) throws InterruptedException {
        long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (!threads.stream().allMatch(t -> t.getState() == Thread.State.WAITING && Arrays.stream(t.getStackTrace())
                .anyMatch(f -> f.getClassName().equals("java.util.concurrent.CompletableFuture") && f.getMethodName().equals("get")))) {
            if (System.nanoTime() > end) {
                throw new AssertionError("requests not queued: " + threads.stream().map(Thread::getState).toList());
            }
            Thread.sleep(2);
        }
    }

    static void awaitTrue(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("condition not reached in 10 s");
            }
            Thread.sleep(2);
        }
    }

    static Thread submitting(MicroBatcher<Integer, Integer> b, int input, int[] results) {
        Thread t = new Thread(() -> results[input] = b.submit(input));
        t.start();
        return t;
    }

    @Test
    void queuedRequestsGoInBatchesOfAtMostTheMaximum() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        List<Integer> sizes = new java.util.concurrent.CopyOnWriteArrayList<>();
        int[] results = new int[8];
        try (MicroBatcher<Integer, Integer> b = new MicroBatcher<>("max", in -> {
            sizes.add(in.size());
            if (sizes.size() == 1) {
                try {
                    release.await(); // the first call holds the worker while the others queue up
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }
            return in.stream().map(i -> i * 10).toList();
        }, 3, 100_000)) {
            List<Thread> threads = new ArrayList<>(List.of(submitting(b, 0, results)));
            awaitTrue(() -> sizes.size() == 1);
            List<Thread> queued = new ArrayList<>();
            for (int i = 1; i < 8; i++) {
                queued.add(submitting(b, i, results));
            }
            awaitQueued(queued);
            release.countDown();
            threads.addAll(queued);
            for (Thread t : threads) {
                t.join();
            }
            // 7 queued requests, at most 3 per call: 3, 3, 1
            assertEquals(List.of(1, 3, 3, 1), sizes);
            assertArrayEquals(new int[] {0, 10, 20, 30, 40, 50, 60, 70}, results);
        }
    }

    @Test
    void aRequestWaitsForCompanionsAtMostMaxWait() throws Exception {
        List<Integer> sizes = new java.util.concurrent.CopyOnWriteArrayList<>();
        int[] results = new int[3];
        try (MicroBatcher<Integer, Integer> b = new MicroBatcher<>("companions", in -> {
            sizes.add(in.size());
            return in;
        }, 2, 10_000_000)) {
            Thread first = submitting(b, 1, results);
            awaitQueued(List.of(first));
            Thread.sleep(100); // the worker has taken it and is waiting (up to 10 s) for a companion
            long t0 = System.nanoTime();
            assertEquals(2, b.submit(2));
            first.join();
            assertEquals(List.of(2), sizes, "both in one call");
            assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "a full batch does not wait for maxWait");
        }
        sizes.clear();
        try (MicroBatcher<Integer, Integer> b = new MicroBatcher<>("alone", in -> {
            sizes.add(in.size());
            return in;
        }, 8, 300_000)) {
            long t0 = System.nanoTime();
            assertEquals(1, b.submit(1));
            long waited = System.nanoTime() - t0;
            assertTrue(waited >= 250_000_000L && waited < 5_000_000_000L, "alone, it waited maxWait (300 ms): " + waited / 1_000_000 + " ms");
            assertEquals(List.of(1), sizes);
        }
    }

    @Test
    void closingRunsWhatIsQueuedAndRefusesNewWork() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        List<Integer> sizes = new java.util.concurrent.CopyOnWriteArrayList<>();
        int[] results = new int[3];
        MicroBatcher<Integer, Integer> b = new MicroBatcher<>("closing", in -> {
            sizes.add(in.size());
            if (sizes.size() == 1) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }
            return in;
        }, 1, 0);
        Thread first = submitting(b, 1, results);
        awaitTrue(() -> sizes.size() == 1);
        Thread second = submitting(b, 2, results);
        awaitQueued(List.of(second));
        Thread closer = new Thread(b::close);
        closer.start();
        awaitTrue(() -> closer.getState() == Thread.State.TIMED_WAITING); // closed, joining the worker
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.submit(3));
        assertEquals("batcher is closed", e.getMessage());
        release.countDown();
        closer.join();
        first.join();
        second.join();
        assertArrayEquals(new int[] {0, 1, 2}, results, "the queued request still ran");
    }

    @Test
    void anInterruptedRequestStopsWaitingAndKeepsItsInterruptFlag() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        try (MicroBatcher<Integer, Integer> b = new MicroBatcher<>("interrupt", in -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return in;
        }, 1, 0)) {
            java.util.concurrent.atomic.AtomicReference<String> seen = new java.util.concurrent.atomic.AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    b.submit(1);
                    seen.set("returned");
                } catch (IllegalStateException e) {
                    seen.set(e.getMessage() + ", interrupted=" + Thread.currentThread().isInterrupted());
                }
            });
            t.start();
            awaitQueued(List.of(t));
            t.interrupt();
            t.join();
            release.countDown();
            assertEquals("interrupted while waiting for the model, interrupted=true", seen.get());
        }
    }

    @Test
    void anErrorInTheModelFailsTheRequestAndAZeroMaximumIsRefused() {
        try (MicroBatcher<String, String> b = new MicroBatcher<>("error", in -> {
            throw new AssertionError("broken model");
        }, 4, 1000)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.submit("x"));
            assertEquals("broken model", e.getCause().getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new MicroBatcher<String, String>("zero", in -> in, 0, 1000));
    }
}

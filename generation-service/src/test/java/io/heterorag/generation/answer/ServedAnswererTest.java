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
        ServedAnswerer.Lease inFlight = served.acquire();
        served.swap(b);
        assertEquals("b@1", served.id());
        assertEquals("b@1", served.acquire().answerer().id(), "new requests get the new answerer");
        assertFalse(a.closed.get(), "closed while a request still held it");
        assertEquals("a@1", inFlight.answerer().id());
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
                    try (ServedAnswerer.Lease l = served.acquire()) {
                        l.answerer().answer(null, null, s -> {
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
}

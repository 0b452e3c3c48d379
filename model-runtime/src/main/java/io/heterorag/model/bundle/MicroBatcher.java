package io.heterorag.model.bundle;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Dynamic micro-batching: concurrent single requests are grouped into one model call of at most
 * maxBatch inputs, waiting at most maxWait for companions after the first arrives. One worker thread
 * per batcher; the model call itself uses ONNX Runtime's intra-op threads.
 */
public final class MicroBatcher<I, O> implements AutoCloseable {

    private record Pending<I, O>(I input, CompletableFuture<O> result) {
    }

    private final Function<List<I>, List<O>> model;
    private final int maxBatch;
    private final long maxWaitNanos;
    private final BlockingQueue<Pending<I, O>> queue = new LinkedBlockingQueue<>();
    private final Thread worker;
    private volatile boolean closed;

    public MicroBatcher(String name, Function<List<I>, List<O>> model, int maxBatch, long maxWaitMicros) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch must be at least 1");
        }
        this.model = model;
        this.maxBatch = maxBatch;
        this.maxWaitNanos = TimeUnit.MICROSECONDS.toNanos(maxWaitMicros);
        this.worker = new Thread(this::loop, "batcher-" + name);
        this.worker.setDaemon(true);
        this.worker.start();
    }

    /** Runs one input through the model, batched with whatever else is waiting; rethrows the model's failure. */
    public O submit(I input) {
        if (closed) {
            throw new IllegalStateException("batcher is closed");
        }
        CompletableFuture<O> f = new CompletableFuture<>();
        queue.add(new Pending<>(input, f));
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the model", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    private void loop() {
        List<Pending<I, O>> batch = new ArrayList<>();
        while (!closed || !queue.isEmpty()) {
            try {
                Pending<I, O> first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                long deadline = System.nanoTime() + maxWaitNanos;
                while (batch.size() < maxBatch) {
                    Pending<I, O> next = queue.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                    if (next == null) {
                        break;
                    }
                    batch.add(next);
                }
                run(batch);
            } catch (InterruptedException e) {
                break;
            } finally {
                batch.clear();
            }
        }
    }

    private void run(List<Pending<I, O>> batch) {
        try {
            List<O> out = model.apply(batch.stream().map(Pending::input).toList());
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).result().complete(out.get(i));
            }
        } catch (RuntimeException | Error e) {
            batch.forEach(p -> p.result().completeExceptionally(e));
        }
    }

    /** Stops taking work; what is queued is still run. */
    @Override
    public void close() {
        closed = true;
        try {
            worker.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

package io.heterorag.model.generation;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Continuous batching on one thread. While nothing is decoding it waits for a request, then up to
 * the admission window for companions; requests that arrive while a batch decodes join at the next
 * step boundary. Joining requests are prefilled together (left padding, mask 0 on pads), their
 * cache is merged into the batch's (left-padding the shorter one), and then every active sequence
 * advances one token per decoder call. Finished or cancelled sequences leave the batch at once.
 */
final class DecodeScheduler implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(DecodeScheduler.class.getName());

    private final DecoderSession decoder;
    private final int maxBatch;
    private final long admissionNanos;
    private final LinkedBlockingQueue<DecodeState> waiting = new LinkedBlockingQueue<>();
    private final List<DecodeState> active = new ArrayList<>();
    private final AtomicLong generatedTokens = new AtomicLong();
    private final AtomicLong decoderCalls = new AtomicLong();
    private final Thread thread;
    private final AtomicInteger decoding = new AtomicInteger();
    private volatile boolean closed;
    private KvCache cache;
    /** Test seam: runs on the scheduler thread before every decode step. */
    volatile Runnable beforeStep;

    DecodeScheduler(String name, DecoderSession decoder, int maxBatch, long admissionNanos) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("max batch must be at least 1, not " + maxBatch);
        }
        this.decoder = decoder;
        this.maxBatch = maxBatch;
        this.admissionNanos = admissionNanos;
        this.cache = emptyCache(0);
        this.thread = new Thread(this::loop, "generator-" + name);
        this.thread.setDaemon(true);
        this.thread.start();
    }

    void submit(DecodeState s) {
        if (closed) {
            throw new IllegalStateException("generator is closed");
        }
        waiting.add(s);
        if (closed && waiting.remove(s)) { // closed meanwhile, after the thread's last drain
            throw new IllegalStateException("generator is closed");
        }
    }

    OnnxGenerator.Stats stats() {
        return new OnnxGenerator.Stats(waiting.size(), decoding.get(), generatedTokens.get(), decoderCalls.get());
    }

    private void loop() {
        while (!closed) {
            List<DecodeState> joining = new ArrayList<>();
            try {
                if (active.isEmpty()) {
                    DecodeState first = waiting.poll(100, TimeUnit.MILLISECONDS);
                    if (first == null) {
                        continue;
                    }
                    joining.add(first);
                    long deadline = System.nanoTime() + admissionNanos;
                    while (joining.size() < maxBatch) {
                        DecodeState next = waiting.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                        if (next == null) {
                            break;
                        }
                        joining.add(next);
                    }
                } else if (active.size() < maxBatch) {
                    waiting.drainTo(joining, maxBatch - active.size());
                }
            } catch (InterruptedException e) {
                break;
            }
            joining.removeIf(s -> s.cancelled);
            decoding.addAndGet(joining.size());
            try {
                if (!joining.isEmpty()) {
                    prefill(joining);
                }
                if (!active.isEmpty()) {
                    step();
                }
            } catch (RuntimeException | Error e) {
                LOG.log(Level.WARNING, "decoding failed for a batch of " + (active.size() + joining.size()), e);
                RuntimeException failure = e instanceof RuntimeException re ? re : new IllegalStateException(e);
                List<DecodeState> failed = new ArrayList<>(active);
                joining.stream().filter(s -> !s.finished() && !active.contains(s)).forEach(failed::add);
                decoding.set(0); // everything counted was in this batch
                failed.forEach(s -> s.fail(failure));
                active.clear();
                cache.close();
                cache = emptyCache(0);
            }
        }
        cache.close();
        IllegalStateException closing = new IllegalStateException("generator closed");
        active.forEach(s -> s.fail(closing));
        waiting.forEach(s -> s.fail(closing));
        waiting.clear();
    }

    private void prefill(List<DecodeState> joining) {
        int rows = joining.size();
        int len = joining.stream().mapToInt(s -> s.prompt.ids().length).max().orElseThrow();
        int h = decoder.hidden;
        int axes = decoder.positionAxes;
        float[] embeds = new float[rows * len * h];
        long[] positions = new long[axes * rows * len];
        long[] mask = new long[rows * len];
        for (int r = 0; r < rows; r++) {
            DecodeState s = joining.get(r);
            int n = s.prompt.ids().length;
            int pad = len - n;
            System.arraycopy(s.promptEmbeds, 0, embeds, (r * len + pad) * h, n * h);
            for (int a = 0; a < axes; a++) {
                System.arraycopy(s.prompt.positions()[a], 0, positions, (a * rows + r) * len + pad, n);
            }
            java.util.Arrays.fill(mask, r * len + pad, (r + 1) * len, 1L);
        }
        DecoderSession.Output out = decoder.run(embeds, rows, len, positions, emptyCache(rows), mask, false);
        decoderCalls.incrementAndGet();
        try {
            List<DecodeState> kept = new ArrayList<>();
            int[] keep = advance(joining, out, kept);
            KvCache joined = out.cache().keep(keep);
            KvCache merged = cache.concat(joined);
            replaceCache(merged, out.cache(), joined);
            active.addAll(kept);
        } catch (RuntimeException | Error e) {
            out.cache().close();
            throw e;
        }
    }

    private void step() {
        Runnable hook = beforeStep;
        if (hook != null) {
            hook.run();
        }
        int rows = active.size();
        int axes = decoder.positionAxes;
        long[] ids = new long[rows];
        long[] positions = new long[axes * rows];
        long[] mask = new long[rows];
        for (int r = 0; r < rows; r++) {
            DecodeState s = active.get(r);
            ids[r] = s.last();
            for (int a = 0; a < axes; a++) {
                positions[a * rows + r] = s.lastIndex() + s.prompt.positionDelta();
            }
            mask[r] = 1;
        }
        float[] embeds = decoder.embed(ids, rows, 1);
        DecoderSession.Output out = decoder.run(embeds, rows, 1, positions, cache, mask, false);
        decoderCalls.incrementAndGet();
        try {
            List<DecodeState> kept = new ArrayList<>();
            int[] keep = advance(active, out, kept);
            KvCache shrunk = out.cache().keep(keep);
            KvCache next = shrunk.trimPadding();
            replaceCache(next, out.cache(), shrunk);
            active.clear();
            active.addAll(kept);
        } catch (RuntimeException | Error e) {
            out.cache().close();
            throw e;
        }
    }

    /** Samples and takes one token per row; returns the rows that go on (not finished, not cancelled). */
    private int[] advance(List<DecodeState> states, DecoderSession.Output out, List<DecodeState> kept) {
        int[] keep = new int[states.size()];
        int n = 0;
        for (int r = 0; r < states.size(); r++) {
            DecodeState s = states.get(r);
            if (s.cancelled) {
                decoding.decrementAndGet();
                continue;
            }
            boolean done = s.accept(s.choose(out.logits(), r * out.vocab(), out.vocab()));
            generatedTokens.incrementAndGet();
            if (done) {
                decoding.decrementAndGet();
                s.complete();
            } else {
                keep[n++] = r;
                kept.add(s);
            }
        }
        return java.util.Arrays.copyOf(keep, n);
    }

    /** Makes {@code next} the batch's cache and closes the old one and the intermediates that are not it. */
    private void replaceCache(KvCache next, KvCache... intermediates) {
        if (cache != next) {
            cache.close();
        }
        for (KvCache c : intermediates) {
            if (c != next) {
                c.close();
            }
        }
        cache = next;
    }

    private KvCache emptyCache(int rows) {
        return KvCache.empty(decoder.layers, decoder.kvHeads, decoder.headDim, rows);
    }

    /**
     * Stops the thread after its step in progress, waiting for it even when the calling thread is
     * interrupted: the caller closes the ONNX sessions next, and a session closed under a running
     * step crashes the process (SIGSEGV in onnxruntime). That happened at a graceful shutdown, where the
     * last request to release the model was one interrupted while it waited for its tokens.
     *
     * @throws IllegalStateException when the step has not ended after 30 s (the sessions must then stay open)
     */
    @Override
    public void close() {
        closed = true;
        boolean interrupted = false;
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (thread.isAlive() && System.nanoTime() < until) {
            try {
                thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime())));
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            throw new IllegalStateException(thread.getName() + " still decoding after 30 s; its sessions are left open");
        }
    }
}

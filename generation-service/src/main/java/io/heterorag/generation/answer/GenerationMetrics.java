package io.heterorag.generation.answer;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import io.heterorag.model.generation.OnnxGenerator;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Generation meters, shared by every generator the service serves in turn (a swapped-in generator
 * keeps counting into the same series). The request gauges read OnnxGenerator's scheduler (queued;
 * in the batch); for another Generator they count requests without a token yet (queued or in
 * prefill) and requests past their first token.
 */
public final class GenerationMetrics {

    private final Timer ttft;
    private final Timer perToken;
    private final Counter promptTokens;
    private final Counter generatedTokens;
    private final AtomicInteger waiting = new AtomicInteger();
    private final AtomicInteger decoding = new AtomicInteger();
    private volatile Supplier<OnnxGenerator.Stats> runtime;

    public GenerationMetrics(MeterRegistry registry) {
        ttft = Timer.builder("heterorag_generation_ttft_seconds").description("time to the first generated token")
                .publishPercentileHistogram().register(registry);
        perToken = Timer.builder("heterorag_generation_time_per_output_token_seconds")
                .description("decode time per generated token after the first").publishPercentileHistogram().register(registry);
        promptTokens = Counter.builder("heterorag_generation_tokens").tag("kind", "prompt").register(registry);
        generatedTokens = Counter.builder("heterorag_generation_tokens").tag("kind", "generated").register(registry);
        Gauge.builder("heterorag_generation_requests_waiting", this, GenerationMetrics::waiting)
                .description("requests waiting for the generator (its queue, else: no token yet)").register(registry);
        Gauge.builder("heterorag_generation_requests_decoding", this, GenerationMetrics::decoding)
                .description("requests the generator is decoding").register(registry);
    }

    /** The gauges follow the served answerer: OnnxGenerator's own queue and batch when it is one. */
    void follow(Answerer served) {
        runtime = served instanceof GenerativeAnswerer g && g.generator() instanceof OnnxGenerator o ? o::stats : null;
    }

    void submitted() {
        waiting.incrementAndGet();
    }

    void firstToken() {
        waiting.decrementAndGet();
        decoding.incrementAndGet();
    }

    /** A request left the generator; {@code started}: whether it had received a token. */
    void ended(boolean started) {
        (started ? decoding : waiting).decrementAndGet();
    }

    void finished(int prompt, int generated, long firstTokenNanos, long totalNanos) {
        promptTokens.increment(prompt);
        generatedTokens.increment(generated);
        if (generated > 0) {
            ttft.record(firstTokenNanos, TimeUnit.NANOSECONDS);
        }
        if (generated > 1) {
            perToken.record((totalNanos - firstTokenNanos) / (generated - 1), TimeUnit.NANOSECONDS);
        }
    }

    public int waiting() {
        Supplier<OnnxGenerator.Stats> r = runtime;
        return r != null ? r.get().waiting() : waiting.get();
    }

    public int decoding() {
        Supplier<OnnxGenerator.Stats> r = runtime;
        return r != null ? r.get().decoding() : decoding.get();
    }
}

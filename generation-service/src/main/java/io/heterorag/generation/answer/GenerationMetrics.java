package io.heterorag.generation.answer;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Generation meters, shared by every generator the service serves in turn (a swapped-in generator
 * keeps counting into the same series). Waiting: requests handed to the generator that have not
 * received their first token (queued or in prefill); decoding: requests past their first token.
 */
public final class GenerationMetrics {

    private final Timer ttft;
    private final Timer perToken;
    private final Counter promptTokens;
    private final Counter generatedTokens;
    private final AtomicInteger waiting = new AtomicInteger();
    private final AtomicInteger decoding = new AtomicInteger();

    public GenerationMetrics(MeterRegistry registry) {
        ttft = Timer.builder("heterorag_generation_ttft_seconds").description("time to the first generated token")
                .publishPercentileHistogram().register(registry);
        perToken = Timer.builder("heterorag_generation_time_per_output_token_seconds")
                .description("decode time per generated token after the first").publishPercentileHistogram().register(registry);
        promptTokens = Counter.builder("heterorag_generation_tokens").tag("kind", "prompt").register(registry);
        generatedTokens = Counter.builder("heterorag_generation_tokens").tag("kind", "generated").register(registry);
        registry.gauge("heterorag_generation_requests_waiting", waiting);
        registry.gauge("heterorag_generation_requests_decoding", decoding);
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
        return waiting.get();
    }

    public int decoding() {
        return decoding.get();
    }
}

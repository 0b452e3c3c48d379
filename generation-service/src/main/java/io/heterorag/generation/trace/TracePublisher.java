package io.heterorag.generation.trace;

import jakarta.enterprise.context.ApplicationScoped;

import io.heterorag.proto.v1.Trace;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Message;

/** Publishes traces to heterorag.traces (key: trace id, value: Trace in protobuf binary form). */
@ApplicationScoped
public class TracePublisher {

    private final Emitter<byte[]> emitter;
    private final MeterRegistry metrics;

    public TracePublisher(@Channel("traces") Emitter<byte[]> emitter, MeterRegistry metrics) {
        this.emitter = emitter;
        this.metrics = metrics;
    }

    /** Asynchronous: the answer is not held up by the broker; a failed send is logged and counted. */
    public void publish(Trace trace) {
        String id = trace.getTraceId();
        Message<byte[]> msg = Message.of(trace.toByteArray())
                .addMetadata(OutgoingKafkaRecordMetadata.<String>builder().withKey(id).build())
                .withAck(() -> {
                    metrics.counter("heterorag_traces_published").increment();
                    return java.util.concurrent.CompletableFuture.completedFuture(null);
                })
                .withNack(e -> {
                    metrics.counter("heterorag_traces_failed").increment();
                    Log.errorf("trace %s was not published: %s", id, e.getMessage());
                    return java.util.concurrent.CompletableFuture.completedFuture(null);
                });
        emitter.send(msg);
    }
}

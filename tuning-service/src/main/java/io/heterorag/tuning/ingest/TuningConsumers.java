package io.heterorag.tuning.ingest;

import jakarta.enterprise.context.ApplicationScoped;

import com.google.protobuf.InvalidProtocolBufferException;
import io.heterorag.proto.v1.Feedback;
import io.heterorag.proto.v1.Trace;
import io.heterorag.tuning.store.TuningStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;
import io.smallrye.common.annotation.Blocking;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Stores what arrives on heterorag.traces and heterorag.feedback. Offsets are committed after the
 * row is written (at-least-once); the primary keys make re-delivery harmless. A malformed message is
 * logged by size and skipped rather than blocking the partition.
 */
@ApplicationScoped
public class TuningConsumers {

    private final TuningStore store;
    private final MeterRegistry metrics;

    public TuningConsumers(TuningStore store, MeterRegistry metrics) {
        this.store = store;
        this.metrics = metrics;
    }

    @Incoming("traces")
    @Blocking
    public void onTrace(byte[] value) {
        Trace t;
        try {
            t = Trace.parseFrom(value);
        } catch (InvalidProtocolBufferException e) {
            malformed("trace", value);
            return;
        }
        if (t.getTraceId().isEmpty()) {
            malformed("trace", value);
            return;
        }
        boolean stored = store.addTrace(t);
        metrics.counter("heterorag_traces_received", "duplicate", String.valueOf(!stored)).increment();
        Log.debugf("trace %s %s", t.getTraceId(), stored ? "stored" : "already stored");
    }

    @Incoming("feedback")
    @Blocking
    public void onFeedback(byte[] value) {
        Feedback f;
        try {
            f = Feedback.parseFrom(value);
        } catch (InvalidProtocolBufferException e) {
            malformed("feedback", value);
            return;
        }
        if (f.getFeedbackId().isEmpty() || f.getTraceId().isEmpty()) {
            malformed("feedback", value);
            return;
        }
        if (store.addFeedback(f)) {
            store.trace(f.getTraceId()).flatMap(t -> io.heterorag.tuning.preference.FeedbackPairs.pair(t, f)).ifPresent(store::putPair);
        }
    }

    private void malformed(String kind, byte[] value) {
        metrics.counter("heterorag_malformed_messages", "kind", kind).increment();
        Log.warnf("skipping a malformed %s message of %d bytes", kind, value == null ? 0 : value.length);
    }
}

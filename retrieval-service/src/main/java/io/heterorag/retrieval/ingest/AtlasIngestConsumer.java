package io.heterorag.retrieval.ingest;

import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import com.google.protobuf.InvalidProtocolBufferException;
import io.heterorag.proto.v1.AtlasRecord;
import io.quarkus.logging.Log;
import io.smallrye.common.annotation.Blocking;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Consumes heterorag.atlas.ingest in batches. Offsets are committed after a batch is stored
 * (at-least-once); the upsert by id makes re-delivery harmless. Malformed messages are logged by
 * size and skipped.
 */
@ApplicationScoped
public class AtlasIngestConsumer {

    private final AtlasIngestor ingestor;

    public AtlasIngestConsumer(AtlasIngestor ingestor) {
        this.ingestor = ingestor;
    }

    @Incoming("atlas-ingest")
    @Blocking
    public void consume(List<byte[]> values) {
        List<AtlasRecord> records = new ArrayList<>();
        for (byte[] v : values) {
            try {
                records.add(AtlasRecord.parseFrom(v));
            } catch (InvalidProtocolBufferException e) {
                Log.warnf("skipping a malformed atlas record of %d bytes: %s", v == null ? 0 : v.length, e.getMessage());
            }
        }
        AtlasIngestor.Result r = ingestor.ingest(records);
        Log.infof("atlas ingest from Kafka: %d messages, %d stored, %d unchanged, %d rejected",
                values.size(), r.stored(), r.unchanged(), r.rejected().size());
    }
}

package io.heterorag.retrieval.ingest;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;

import com.google.protobuf.InvalidProtocolBufferException;
import io.heterorag.proto.v1.AtlasRecord;
import io.heterorag.proto.v1.RejectedRecord;
import io.quarkus.logging.Log;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Consumes heterorag.atlas.ingest in batches. A batch's offsets are committed only after it is stored
 * and its failures are on the dead-letter topic (at-least-once); the upsert by id and content hash
 * makes re-delivery after a crash harmless. Malformed messages and rejected records go to
 * heterorag.atlas.dlq with the original key and value and the reason in the header "heterorag-reason".
 */
@ApplicationScoped
public class AtlasIngestConsumer {

    static final String REASON = "heterorag-reason";

    private final AtlasIngestor ingestor;
    private final MutinyEmitter<byte[]> dlq;

    public AtlasIngestConsumer(AtlasIngestor ingestor, @Channel("atlas-dlq") MutinyEmitter<byte[]> dlq) {
        this.ingestor = ingestor;
        this.dlq = dlq;
    }

    @Incoming("atlas-ingest")
    @Blocking
    public void consume(ConsumerRecords<String, byte[]> batch) {
        List<AtlasRecord> records = new ArrayList<>();
        Map<String, ConsumerRecord<String, byte[]>> byId = new HashMap<>();
        for (ConsumerRecord<String, byte[]> m : batch) {
            try {
                AtlasRecord r = AtlasRecord.parseFrom(m.value() == null ? new byte[0] : m.value());
                records.add(r);
                byId.put(r.getId(), m);
            } catch (InvalidProtocolBufferException e) {
                deadLetter(m, "malformed AtlasRecord: " + e.getMessage());
            }
        }
        AtlasIngestor.Result r = ingestor.ingest(records);
        for (RejectedRecord rejected : r.rejected()) {
            deadLetter(byId.get(rejected.getId()), rejected.getReason());
        }
        Log.infof("atlas ingest from Kafka: %d messages, %d stored, %d unchanged, %d near-duplicates, %d rejected",
                batch.count(), r.stored(), r.unchanged(), r.duplicates().size(), r.rejected().size());
    }

    private void deadLetter(ConsumerRecord<String, byte[]> m, String reason) {
        // keys and sizes only in the log: values may be patient data
        Log.warnf("to heterorag.atlas.dlq: key %s (%d bytes, partition %d offset %d): %s", m.key(),
                m.value() == null ? 0 : m.value().length, m.partition(), m.offset(), reason);
        RecordHeaders headers = new RecordHeaders();
        headers.add(REASON, reason.getBytes(StandardCharsets.UTF_8));
        headers.add("heterorag-source", (m.topic() + "/" + m.partition() + "/" + m.offset()).getBytes(StandardCharsets.UTF_8));
        dlq.sendMessageAndAwait(Message.of(m.value() == null ? new byte[0] : m.value())
                .addMetadata(OutgoingKafkaRecordMetadata.<String>builder().withKey(m.key()).withHeaders(headers).build()));
    }
}

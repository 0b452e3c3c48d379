package io.heterorag.retrieval.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.UUID;
import java.util.function.BooleanSupplier;

import jakarta.inject.Inject;

import io.heterorag.proto.v1.AtlasRecord;
import io.heterorag.proto.v1.Modality;
import io.heterorag.retrieval.TestData;
import io.heterorag.retrieval.store.ReportRepositories;
import io.quarkus.test.junit.QuarkusTest;
import io.heterorag.localkafka.LocalKafkaBroker;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/** Ingest through the real broker: malformed messages are skipped, re-delivery stores once. */
@QuarkusTest
class AtlasIngestConsumerTest {

    @Inject
    ReportRepositories reports;

    long count() {
        return reports.counts().get("reports-radiology");
    }

    String storedHash(String id) {
        try (var repo = reports.lease(Modality.RADIOLOGY)) {
            return repo.collection().storedHash(id);
        }
    }

    @Test
    void recordsOnTheTopicAreStoredOnceAndMalformedOnesSkipped() throws Exception {
        String id = "kafka-" + UUID.randomUUID();
        AtlasRecord record = TestData.report(id, "MPX1014_synpic41745", "Report sent through Kafka.");
        long before = count();
        try (KafkaProducer<String, byte[]> producer = producer()) {
            producer.send(new ProducerRecord<>("heterorag.atlas.ingest", "junk", new byte[] {(byte) 0xff, 1, 2, 3})).get();
            producer.send(new ProducerRecord<>("heterorag.atlas.ingest", id, record.toByteArray())).get();
            producer.send(new ProducerRecord<>("heterorag.atlas.ingest", id, record.toByteArray())).get();
        }
        await(() -> storedHash(id) != null);
        // the duplicate is behind the first on the same partition; give it time to be processed
        Thread.sleep(1500);
        assertEquals(before + 1, count());
    }

    static KafkaProducer<String, byte[]> producer() {
        return LocalKafkaBroker.producer(ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class));
    }

    static void await(BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < end, "condition not met within 60 s");
            Thread.sleep(200);
        }
    }
}

package io.heterorag.retrieval.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.BooleanSupplier;

import jakarta.inject.Inject;

import io.heterorag.proto.v1.AtlasRecord;
import io.heterorag.proto.v1.Modality;
import io.heterorag.retrieval.TestData;
import io.heterorag.retrieval.store.ReportRepositories;
import io.quarkus.test.junit.QuarkusTest;
import io.heterorag.localkafka.LocalKafkaBroker;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/** Ingest through the real broker: re-delivery stores once; malformed and rejected records reach the dead-letter topic. */
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
    void recordsAreStoredOnceAndFailuresGoToTheDeadLetterTopicWithTheirReason() throws Exception {
        String id = "kafka-" + UUID.randomUUID();
        AtlasRecord record = TestData.report(id, "MPX1014_synpic41745", "Report sent through Kafka.");
        AtlasRecord noText = TestData.report(id + "-empty", "MPX1028_synpic24627", " ");
        byte[] junk = {(byte) 0xff, 1, 2, 3};
        long before = count();
        try (KafkaProducer<String, byte[]> producer = producer();
                KafkaConsumer<String, byte[]> dlq = dlqConsumer()) {
            producer.send(new ProducerRecord<>("heterorag.atlas.ingest", "reports-radiology/junk-" + id, junk)).get();
            producer.send(new ProducerRecord<>("heterorag.atlas.ingest", "reports-radiology/" + id, record.toByteArray())).get();
            producer.send(new ProducerRecord<>("heterorag.atlas.ingest", "reports-radiology/" + id, record.toByteArray())).get();
            producer.send(new ProducerRecord<>("heterorag.atlas.ingest", "reports-radiology/" + id + "-empty", noText.toByteArray())).get();
            await(() -> storedHash(id) != null);

            Map<String, ConsumerRecord<String, byte[]>> dead = new HashMap<>();
            long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (dead.size() < 2 && System.nanoTime() < end) {
                for (ConsumerRecord<String, byte[]> r : dlq.poll(Duration.ofMillis(500))) {
                    if (r.key() != null && r.key().contains(id)) {
                        dead.put(r.key(), r);
                    }
                }
            }
            ConsumerRecord<String, byte[]> malformed = dead.get("reports-radiology/junk-" + id);
            assertArrayEquals(junk, malformed.value(), "the original bytes, nothing lost");
            assertTrue(reason(malformed).startsWith("malformed AtlasRecord"), reason(malformed));
            ConsumerRecord<String, byte[]> rejected = dead.get("reports-radiology/" + id + "-empty");
            assertEquals("report text is empty", reason(rejected));
            assertEquals(noText, AtlasRecord.parseFrom(rejected.value()));
        }
        // the re-delivered copy is behind the first on the same partition and was processed with it or after
        assertEquals(before + 1, count());
        assertEquals(null, storedHash(id + "-empty"));
    }

    static String reason(ConsumerRecord<String, byte[]> r) {
        return new String(r.headers().lastHeader("heterorag-reason").value(), StandardCharsets.UTF_8);
    }

    static KafkaConsumer<String, byte[]> dlqConsumer() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class));
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "test-dlq-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
        c.subscribe(List.of("heterorag.atlas.dlq"));
        return c;
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

package io.heterorag.cli;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Publishes ingest records to heterorag.atlas.ingest (key "COLLECTION/ID": the default partitioner
 * keeps a record's versions on one partition) and malformed source lines to heterorag.atlas.dlq,
 * then can wait until retrieval-service's consumer group has committed past every record published:
 * the records are embedded and indexed. Progress goes to stderr.
 */
final class AtlasPublisher implements AutoCloseable {

    static final String TOPIC = "heterorag.atlas.ingest";
    static final String DLQ = "heterorag.atlas.dlq";
    static final String GROUP = "retrieval-service";

    private final KafkaProducer<String, byte[]> producer;
    private final Admin admin;
    private final Map<String, AtomicLong> perCollection = new TreeMap<>();
    private final Map<Integer, Long> lastOffset = new ConcurrentHashMap<>();
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private final long started = System.nanoTime();
    private long published;
    private long malformed;
    private long bytes;
    private long lastProgress = System.nanoTime();

    AtlasPublisher(String bootstrap, int partitions) {
        Properties p = Main.kafkaProperties(bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 32 << 20);
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000); // an unreachable broker fails the command, not hangs it
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        Properties a = Main.kafkaProperties(bootstrap);
        a.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        this.admin = Admin.create(a);
        ensureTopic(partitions);
    }

    /** Creates the ingest topic with the given partitions if it does not exist (one consumer per partition at most). */
    private void ensureTopic(int partitions) {
        try {
            admin.createTopics(List.of(new NewTopic(TOPIC, partitions, (short) 1))).all().get();
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("cannot create " + TOPIC + ": " + e.getCause().getMessage(), e);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    void publish(AtlasSources.Item item) {
        if (failure.get() != null) {
            throw new IllegalStateException("publishing failed: " + failure.get().getMessage(), failure.get());
        }
        if (item.record() == null) {
            ProducerRecord<String, byte[]> r = new ProducerRecord<>(DLQ, item.key(), item.raw());
            r.headers().add("heterorag-reason", item.reason().getBytes(StandardCharsets.UTF_8));
            producer.send(r, (md, e) -> failure.compareAndSet(null, e));
            // the source reference and reason only: the line may hold patient data
            System.err.println("malformed " + item.key() + ": " + item.reason() + " (sent to " + DLQ + ")");
            malformed++;
            return;
        }
        byte[] value = item.record().toByteArray();
        producer.send(new ProducerRecord<>(TOPIC, item.key(), value), (md, e) -> {
            if (e != null) {
                failure.compareAndSet(null, e);
            } else {
                lastOffset.merge(md.partition(), md.offset(), Math::max);
            }
        });
        perCollection.computeIfAbsent(item.key().substring(0, item.key().indexOf('/')), k -> new AtomicLong()).incrementAndGet();
        published++;
        bytes += value.length;
        if (System.nanoTime() - lastProgress > 2_000_000_000L) {
            lastProgress = System.nanoTime();
            System.err.printf("published %d records (%.1f MB), %d malformed, %.0f records/s%n", published, bytes / 1e6, malformed,
                    published / seconds());
        }
    }

    /** Waits for every send; prints and returns the per-collection counts. */
    Map<String, Long> flush() {
        producer.flush();
        if (failure.get() != null) {
            throw new IllegalStateException("publishing failed: " + failure.get().getMessage(), failure.get());
        }
        Map<String, Long> counts = new TreeMap<>();
        perCollection.forEach((k, v) -> counts.put(k, v.get()));
        counts.forEach((c, n) -> System.out.printf("%s: %d published%n", c, n));
        System.out.printf("published %d records (%.1f MB) in %.1f s, %.0f records/s; %d malformed to %s%n", published, bytes / 1e6,
                seconds(), published / seconds(), malformed, DLQ);
        return counts;
    }

    long malformed() {
        return malformed;
    }

    long published() {
        return published;
    }

    double seconds() {
        return Math.max((System.nanoTime() - started) / 1e9, 1e-3);
    }

    /**
     * Blocks until the consumer group has committed beyond the last published offset of every
     * partition (offsets are committed only after a batch is stored). False on timeout.
     */
    boolean awaitIndexed(Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        long lastPrint = 0;
        while (true) {
            long behind = behind();
            if (behind == 0) {
                System.out.printf("indexed: %d records, %.0f records/s end to end (publish to indexed) over %.1f s%n", published,
                        published / seconds(), seconds());
                return true;
            }
            if (System.nanoTime() > end) {
                System.err.printf("timed out with %d records not yet indexed (is retrieval-service running?)%n", behind);
                return false;
            }
            if (System.nanoTime() - lastPrint > 5_000_000_000L) {
                lastPrint = System.nanoTime();
                System.err.printf("indexing: %d of %d records still queued (%.0f s)%n", behind, published, seconds());
            }
            Thread.sleep(250);
        }
    }

    /** Records published by this run that the consumer group has not yet committed. */
    private long behind() throws InterruptedException {
        Map<TopicPartition, OffsetAndMetadata> committed;
        try {
            committed = admin.listConsumerGroupOffsets(GROUP).partitionsToOffsetAndMetadata().get();
        } catch (ExecutionException e) {
            committed = new HashMap<>();
        }
        long behind = 0;
        for (Map.Entry<Integer, Long> e : lastOffset.entrySet()) {
            OffsetAndMetadata c = committed.get(new TopicPartition(TOPIC, e.getKey()));
            long next = c == null ? 0 : c.offset();
            behind += Math.max(0, e.getValue() + 1 - next);
        }
        return behind == 0 ? 0 : Math.min(behind, published);
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
        admin.close(Duration.ofSeconds(5));
    }
}

package io.heterorag.generation.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import io.heterorag.localkafka.LocalKafkaBroker;
import io.heterorag.proto.v1.Trace;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trace buffer: nothing answered is lost while the broker is away; what does not fit is counted. */
class TracePublisherTest {

    @TempDir
    Path dir;

    final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    static Trace trace(String id) {
        return Trace.newBuilder().setTraceId(id).setRequestId("req-" + id).setAnswer("an answer of some length").build();
    }

    @Test
    void everyTraceArrivesWhenTheBrokerIsKilledAndRestartedDuringAStreamOfTraces() throws Exception {
        Path kafkaDir = dir.resolve("kafka");
        int port = freePort();
        int controller = freePort();
        LocalKafkaBroker broker = LocalKafkaBroker.start(kafkaDir, port, controller);
        String bootstrap = broker.bootstrapServers();
        // short producer timeouts, so sends during the outage fail and are delivered again from disk
        Map<String, Object> kafka = Map.of("bootstrap.servers", bootstrap, "request.timeout.ms", "1500",
                "delivery.timeout.ms", "2000", "max.block.ms", "1000");
        List<String> sent = new CopyOnWriteArrayList<>();
        TracePublisher publisher = new TracePublisher(new TracePublisher.KafkaSender(kafka, "heterorag.traces"), dir.resolve("buffer"),
                1 << 20, 500, registry);
        try {
            for (int i = 0; i < 10; i++) {
                publish(publisher, sent);
            }
            broker.close();
            for (int i = 0; i < 10; i++) {
                publish(publisher, sent);
                Thread.sleep(300);
            }
            // the outage outlasted the producer's delivery timeout: the last traces wait on disk
            assertTrue(publisher.buffered() > 0, "traces wait in the buffer while the broker is down");
            assertTrue(registry.counter("heterorag_traces_failed").count() > 0, "sends failed during the outage");
            broker = LocalKafkaBroker.start(kafkaDir, port, controller);
            for (int i = 0; i < 5; i++) {
                publish(publisher, sent);
            }
            Set<String> received = consume(bootstrap, Set.copyOf(sent), Duration.ofSeconds(60));
            assertEquals(Set.copyOf(sent), received, "every published trace id arrives on heterorag.traces");
            waitUntil(() -> publisher.buffered() == 0, Duration.ofSeconds(10));
            assertEquals(0, bufferFiles().size(), "delivered traces leave the buffer");
            assertEquals(0.0, registry.counter("heterorag_traces_dropped").count());
        } finally {
            publisher.close();
            broker.close();
        }
    }

    @Test
    void tracesTravelOverSaslSslWithTheKafkaPropertiesOfTheServiceAndAWrongPasswordIsRefused() throws Exception {
        Path certs = dir.resolve("certs");
        io.heterorag.guard.LocalCertificates.write(certs, List.of("kafka"), Duration.ofDays(1));
        Path keyStore = Files.writeString(certs.resolve("kafka-keystore.pem"),
                Files.readString(certs.resolve("kafka.key")) + Files.readString(certs.resolve("kafka.crt")));
        int saslPort = freePort();
        LocalKafkaBroker broker = LocalKafkaBroker.start(dir.resolve("kafka"), 0, 0,
                new LocalKafkaBroker.SaslSsl(saslPort, keyStore, "generation", "s3cret"));
        String bootstrap = "127.0.0.1:" + saslPort;
        // what a service sets as kafka.* properties (the publisher and every channel take them)
        Map<String, Object> kafka = Map.of("bootstrap.servers", bootstrap, "security.protocol", "SASL_SSL", "sasl.mechanism", "PLAIN",
                "sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"generation\" password=\"s3cret\";",
                "ssl.truststore.type", "PEM", "ssl.truststore.location", certs.resolve("ca.crt").toString());
        TracePublisher publisher = new TracePublisher(new TracePublisher.KafkaSender(kafka, "heterorag.traces"), dir.resolve("buffer"),
                1 << 20, 500, registry);
        try {
            String id = UUID.randomUUID().toString();
            publisher.publish(trace(id));
            Properties ok = new Properties();
            ok.putAll(kafka);
            assertEquals(Set.of(id), consume(ok, Set.of(id), Duration.ofSeconds(60)));
            Properties wrong = new Properties();
            wrong.putAll(kafka);
            wrong.put("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"generation\" password=\"guess\";");
            assertThrows(org.apache.kafka.common.errors.SaslAuthenticationException.class, () -> consume(wrong, Set.of(id), Duration.ofSeconds(20)));
        } finally {
            publisher.close();
            broker.close();
        }
    }

    @Test
    void whatTheBufferCannotHoldIsDroppedAndCounted() throws Exception {
        int size = trace(UUID.randomUUID().toString()).toByteArray().length;
        TracePublisher publisher = new TracePublisher(neverAcknowledged(), dir.resolve("buffer"), 3L * size, 60_000, registry);
        for (int i = 0; i < 5; i++) {
            publisher.publish(trace(UUID.randomUUID().toString()));
        }
        assertEquals(3, publisher.buffered());
        assertEquals(3, bufferFiles().size());
        assertEquals(2.0, registry.counter("heterorag_traces_dropped").count());
        publisher.close();
    }

    @Test
    void aRestartedPublisherSendsWhatThePreviousOneLeftAndDeletesItOnceAcknowledged() throws Exception {
        TracePublisher first = new TracePublisher(neverAcknowledged(), dir.resolve("buffer"), 1 << 20, 60_000, registry);
        List<String> ids = IntStream.range(0, 3).mapToObj(i -> UUID.randomUUID().toString()).toList();
        ids.forEach(id -> first.publish(trace(id)));
        first.close();
        Files.writeString(dir.resolve("buffer").resolve("corrupt.trace"), "not a trace");

        List<String> delivered = new CopyOnWriteArrayList<>();
        TracePublisher second = new TracePublisher((id, bytes) -> {
            delivered.add(id);
            return CompletableFuture.completedFuture(null);
        }, dir.resolve("buffer"), 1 << 20, 60_000, registry);
        waitUntil(() -> second.buffered() == 0, Duration.ofSeconds(10));
        assertEquals(Set.copyOf(ids), Set.copyOf(delivered));
        assertEquals(List.of(), bufferFiles(), "delivered and corrupt files are gone");
        second.close();
    }

    @Test
    void anIdThatIsNoSafeFileNameIsStoredUnderItsHash() {
        assertEquals("3f2a.trace", TracePublisher.fileName("3f2a"));
        String name = TracePublisher.fileName("../../etc/passwd");
        assertTrue(name.matches("id-[0-9a-f-]{36}\\.trace"), name);
        assertEquals(name, TracePublisher.fileName("../../etc/passwd"));
    }

    private static void publish(TracePublisher publisher, List<String> sent) {
        String id = UUID.randomUUID().toString();
        publisher.publish(trace(id));
        sent.add(id);
    }

    private static TracePublisher.Sender neverAcknowledged() {
        return (id, bytes) -> new CompletableFuture<>();
    }

    private List<Path> bufferFiles() throws IOException {
        try (Stream<Path> s = Files.list(dir.resolve("buffer"))) {
            return s.toList();
        }
    }

    private static Set<String> consume(String bootstrap, Set<String> expected, Duration timeout) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        return consume(p, expected, timeout);
    }

    private static Set<String> consume(Properties p, Set<String> expected, Duration timeout) {
        p.put("group.id", "trace-test-" + UUID.randomUUID());
        p.put("auto.offset.reset", "earliest");
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", ByteArrayDeserializer.class.getName());
        Set<String> seen = new HashSet<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(p)) {
            consumer.subscribe(List.of("heterorag.traces"));
            long end = System.nanoTime() + timeout.toNanos();
            while (!seen.containsAll(expected) && System.nanoTime() < end) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    seen.add(r.key());
                }
            }
        }
        return seen;
    }

    private static void waitUntil(java.util.function.BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean() && System.nanoTime() < end) {
            Thread.sleep(50);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        }
    }
}

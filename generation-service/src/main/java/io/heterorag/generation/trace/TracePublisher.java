package io.heterorag.generation.trace;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import com.google.protobuf.InvalidProtocolBufferException;
import io.heterorag.generation.config.GenerationConfig;
import io.heterorag.proto.v1.Trace;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;
import io.smallrye.common.annotation.Identifier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Publishes traces to heterorag.traces (key: trace id, value: Trace in protobuf binary form) without
 * losing one while the broker is away: every trace is first written to a bounded on-disk buffer and
 * its file is deleted only once the broker has acknowledged it. Failed sends stay on disk and are
 * sent again every retry interval, and a restarted pod sends what the previous one left. What the
 * buffer cannot hold is dropped, counted ({@code heterorag_traces_dropped}) and logged by id.
 * Delivery is at least once: tuning-service stores a trace once per id.
 */
@ApplicationScoped
public class TracePublisher {

    /** Hands one trace to the broker; the stage completes when the broker has it. */
    public interface Sender extends AutoCloseable {
        CompletionStage<Void> send(String traceId, byte[] trace);

        @Override
        default void close() {
        }
    }

    private static final String SUFFIX = ".trace";
    private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9._-]{1,128}");

    private final Sender sender;
    private final Path dir;
    private final long maxBytes;
    private final MeterRegistry metrics;
    private final Set<Path> inFlight = ConcurrentHashMap.newKeySet();
    private final AtomicLong bufferedBytes = new AtomicLong();
    private final AtomicInteger buffered = new AtomicInteger();
    private final ScheduledExecutorService retries = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "trace-redelivery");
        t.setDaemon(true);
        return t;
    });

    @Inject
    public TracePublisher(@Identifier("default-kafka-broker") Map<String, Object> kafka, GenerationConfig config, MeterRegistry metrics) {
        this(new KafkaSender(kafka, config.generation().tracesTopic()), config.generation().traceBufferDir(),
                config.generation().traceBufferMaxBytes(), config.generation().traceRetryIntervalMs(), metrics);
    }

    public TracePublisher(Sender sender, Path dir, long maxBytes, long retryIntervalMs, MeterRegistry metrics) {
        this.sender = sender;
        this.dir = dir.toAbsolutePath();
        this.maxBytes = maxBytes;
        this.metrics = metrics;
        try {
            Files.createDirectories(this.dir);
        } catch (IOException e) {
            throw new UncheckedIOException("trace buffer directory " + this.dir + " cannot be created", e);
        }
        for (Path f : files()) {
            buffered.incrementAndGet();
            bufferedBytes.addAndGet(size(f));
        }
        metrics.gauge("heterorag_traces_buffered", buffered);
        metrics.gauge("heterorag_traces_buffered_bytes", bufferedBytes);
        // what a previous run left goes first, then whatever failed since, every interval
        retries.scheduleWithFixedDelay(this::resendBuffered, 0, retryIntervalMs, TimeUnit.MILLISECONDS);
    }

    /** Buffers the trace and sends it; never blocks on the broker and never throws for a broker failure. */
    public void publish(Trace trace) {
        byte[] bytes = trace.toByteArray();
        String id = trace.getTraceId();
        if (bufferedBytes.addAndGet(bytes.length) > maxBytes) {
            bufferedBytes.addAndGet(-bytes.length);
            metrics.counter("heterorag_traces_dropped").increment();
            Log.errorf("trace %s (%d bytes) dropped: the trace buffer holds %d of %d bytes", id, bytes.length, bufferedBytes.get(),
                    maxBytes);
            return;
        }
        Path file = dir.resolve(fileName(id));
        try {
            Path tmp = Files.createTempFile(dir, "incoming-", ".tmp");
            Files.write(tmp, bytes);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            bufferedBytes.addAndGet(-bytes.length);
            metrics.counter("heterorag_traces_dropped").increment();
            Log.errorf("trace %s (%d bytes) dropped: the trace buffer cannot be written: %s", id, bytes.length, e.getMessage());
            return;
        }
        buffered.incrementAndGet();
        send(file, id, bytes);
    }

    /** Traces waiting on disk for the broker. */
    public int buffered() {
        return buffered.get();
    }

    private void send(Path file, String id, byte[] bytes) {
        if (!inFlight.add(file)) {
            return;
        }
        CompletionStage<Void> sent;
        try {
            sent = sender.send(id, bytes);
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        sent.whenComplete((ok, error) -> {
            if (error == null) {
                try {
                    Files.deleteIfExists(file);
                    buffered.decrementAndGet();
                    bufferedBytes.addAndGet(-bytes.length);
                } catch (IOException e) {
                    Log.warnf("trace %s was published but its buffer file stays: %s", id, e.getMessage());
                }
                metrics.counter("heterorag_traces_published").increment();
            } else {
                metrics.counter("heterorag_traces_failed").increment();
                Log.warnf("trace %s not published yet (%s); it stays buffered", id, error.getMessage());
            }
            inFlight.remove(file);
        });
    }

    private void resendBuffered() {
        for (Path f : files()) {
            if (inFlight.contains(f)) {
                continue;
            }
            try {
                byte[] bytes = Files.readAllBytes(f);
                send(f, Trace.parseFrom(bytes).getTraceId(), bytes);
            } catch (NoSuchFileException e) {
                // published meanwhile
            } catch (InvalidProtocolBufferException e) {
                Log.errorf("buffered trace file %s is corrupt and is deleted: %s", f.getFileName(), e.getMessage());
                deleteCorrupt(f);
            } catch (IOException e) {
                Log.warnf("buffered trace file %s unreadable: %s", f.getFileName(), e.getMessage());
            }
        }
    }

    private void deleteCorrupt(Path f) {
        long size = size(f);
        try {
            if (Files.deleteIfExists(f)) {
                buffered.decrementAndGet();
                bufferedBytes.addAndGet(-size);
            }
        } catch (IOException e) {
            Log.warnf("corrupt trace file %s cannot be deleted: %s", f.getFileName(), e.getMessage());
        }
    }

    private List<Path> files() {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).toList();
        } catch (IOException e) {
            Log.warnf("trace buffer %s unreadable: %s", dir, e.getMessage());
            return List.of();
        }
    }

    private static long size(Path f) {
        try {
            return Files.size(f);
        } catch (IOException e) {
            return 0;
        }
    }

    /** Trace ids are UUIDs; any other id is named by its hash, so a file name never leaves the directory. */
    static String fileName(String traceId) {
        if (SAFE_NAME.matcher(traceId).matches()) {
            return traceId + SUFFIX;
        }
        return "id-" + UUID.nameUUIDFromBytes(traceId.getBytes(StandardCharsets.UTF_8)) + SUFFIX;
    }

    @PreDestroy
    void close() {
        retries.shutdownNow();
        sender.close();
    }

    /**
     * The broker side: a producer configured from the application's {@code kafka.*} properties (so
     * security settings apply), sending on its own thread because a producer without metadata blocks
     * in send() for up to max.block.ms.
     */
    static final class KafkaSender implements Sender {
        private final KafkaProducer<String, byte[]> producer;
        private final String topic;
        private final ExecutorService sending = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "trace-sender");
            t.setDaemon(true);
            return t;
        });

        KafkaSender(Map<String, Object> kafka, String topic) {
            Map<String, Object> props = new HashMap<>(kafka);
            props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            props.put(ProducerConfig.ACKS_CONFIG, "all");
            props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
            props.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, "5000");
            props.putIfAbsent(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
            props.putIfAbsent(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000");
            props.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "generation-service-traces");
            this.producer = new KafkaProducer<>(props);
            this.topic = topic;
        }

        @Override
        public CompletionStage<Void> send(String traceId, byte[] trace) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            sending.execute(() -> {
                try {
                    producer.send(new ProducerRecord<>(topic, traceId, trace), (meta, error) -> {
                        if (error == null) {
                            done.complete(null);
                        } else {
                            done.completeExceptionally(error);
                        }
                    });
                } catch (RuntimeException e) {
                    done.completeExceptionally(e);
                }
            });
            return done;
        }

        @Override
        public void close() {
            sending.shutdown();
            producer.close(Duration.ofSeconds(5));
        }
    }
}

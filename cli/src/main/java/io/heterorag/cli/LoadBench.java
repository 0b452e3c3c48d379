package io.heterorag.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.heterorag.proto.v1.AnswerRequest;
import io.heterorag.proto.v1.AnswerResponse;
import io.heterorag.proto.v1.ClinicalRagGrpc;
import io.heterorag.proto.v1.Image;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.Task;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * {@code bench load --concurrency N --duration S [--chaos] [--chaos-service retrieval] [--json]}:
 * N clients ask MedPix dev diagnosis questions with their images for S seconds; answers/s, latency
 * percentiles and errors by status code. With --chaos, one service and then the broker are killed
 * (SIGKILL) and restarted through the launcher during the run, which lasts until 10 s after the last
 * restart; per fault it reports the errors by status, the degraded answers, how long errors lasted
 * after the kill ({@code recovery_s}) and the restart time. At the end
 * every answered request's trace id is looked for on heterorag.traces: {@code lost_traces} must be 0.
 */
final class LoadBench {

    private static final String QUESTION = "What is the most likely diagnosis?";

    /** One finished call: when it ended (ms since start), its latency and its status code ("OK"…). */
    record Call(long endMs, double millis, String code, String traceId, boolean degraded) {
    }

    private LoadBench() {
    }

    static int run(ManagedChannel channel, String kafka, Args args) throws Exception {
        int concurrency = args.integer("concurrency", 4);
        int duration = args.integer("duration", 30);
        boolean chaos = args.flag("chaos");
        String victim = args.get("chaos-service", "retrieval");
        if (concurrency < 1 || duration < 1) {
            throw new Args.UsageException("--concurrency and --duration must be at least 1");
        }
        if (chaos && duration < 40) {
            throw new Args.UsageException("--chaos needs --duration of at least 40 s (two faults with restarts)");
        }
        MedPix medpix = new MedPix(Path.of(args.get("data", Main.env("MEDPIX_DIR", "../shared/data/medpix-2.0"))));
        List<AnswerRequest> requests = new ArrayList<>();
        for (MedPix.Case c : medpix.cases("dev")) {
            Path image = c.images().stream().map(medpix::imagePath).filter(Files::exists).findFirst().orElse(null);
            if (image != null) {
                requests.add(AnswerRequest.newBuilder().setModality(Modality.RADIOLOGY).setTask(Task.OPEN_VQA)
                        .setQuestion((c.history() + " " + QUESTION).strip())
                        .setImage(Image.newBuilder().setMediaType("image/jpeg").setData(ByteString.copyFrom(AtlasSources.read(image))))
                        .build());
            }
        }
        if (requests.isEmpty()) {
            throw new IllegalArgumentException("no MedPix dev case with an image found (--data)");
        }
        ClinicalRagGrpc.ClinicalRagBlockingStub stub = ClinicalRagGrpc.newBlockingStub(channel);
        stub.withDeadlineAfter(60, TimeUnit.SECONDS).answer(requests.get(0)); // warm-up, also fails fast if the stack is down

        ConcurrentLinkedQueue<Call> calls = new ConcurrentLinkedQueue<>();
        long start = System.nanoTime();
        // with --chaos the run lasts until 10 s after the last restart, whatever --duration says
        java.util.concurrent.atomic.AtomicLong end = new java.util.concurrent.atomic.AtomicLong(start + TimeUnit.SECONDS.toNanos(duration));
        AtomicInteger next = new AtomicInteger();
        ExecutorService clients = Executors.newFixedThreadPool(concurrency);
        String run = UUID.randomUUID().toString().substring(0, 8);
        for (int i = 0; i < concurrency; i++) {
            clients.execute(() -> {
                while (System.nanoTime() < end.get()) {
                    int n = next.getAndIncrement();
                    AnswerRequest req = requests.get(n % requests.size()).toBuilder().setRequestId("load-" + run + "-" + n).build();
                    long t0 = System.nanoTime();
                    String code = "OK";
                    String trace = "";
                    boolean degraded = false;
                    try {
                        AnswerResponse res = stub.withDeadlineAfter(30, TimeUnit.SECONDS).answer(req);
                        trace = res.getTraceId();
                        degraded = res.getDegradedCount() > 0;
                    } catch (StatusRuntimeException e) {
                        code = e.getStatus().getCode().name();
                    }
                    long t1 = System.nanoTime();
                    calls.add(new Call((t1 - start) / 1_000_000, (t1 - t0) / 1e6, code, trace, degraded));
                    if (!code.equals("OK")) {
                        sleepQuietly(100); // a client backs off a little after an error
                    }
                }
            });
        }

        List<ObjectNode> faults = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        if (chaos) {
            Chaos c = new Chaos();
            // the service a quarter in, the broker at the middle (or 10 s after the service is back); each
            // down for 5 s, then restarted
            faults.add(c.fault(json, victim, start, duration / 4, 5));
            faults.add(c.fault(json, "kafka", start, Math.max(duration / 2, elapsedSeconds(start) + 10), 5));
            end.accumulateAndGet(System.nanoTime() + TimeUnit.SECONDS.toNanos(10), Math::max);
        }
        clients.shutdown();
        clients.awaitTermination(duration + 600L, TimeUnit.SECONDS);
        int ran = Math.max(duration, elapsedSeconds(start));

        List<Call> all = new ArrayList<>(calls);
        ObjectNode out = json.createObjectNode();
        out.put("concurrency", concurrency);
        out.put("duration_s", ran);
        out.put("cases", requests.size());
        out.put("cpus", Runtime.getRuntime().availableProcessors());
        summarise(out, all, ran);
        for (ObjectNode f : faults) {
            long from = f.get("at_ms").asLong();
            long to = faults.indexOf(f) + 1 < faults.size() ? faults.get(faults.indexOf(f) + 1).get("at_ms").asLong() : Long.MAX_VALUE;
            List<Call> window = all.stream().filter(call -> call.endMs() >= from && call.endMs() < to).toList();
            f.set("errors", errors(json, window));
            f.put("degraded_answers", window.stream().filter(Call::degraded).count());
            // a question the generator cannot fit is the caller's error, not the fault's
            long lastError = window.stream().filter(call -> !call.code().equals("OK") && !call.code().equals("INVALID_ARGUMENT"))
                    .mapToLong(Call::endMs).max().orElse(from);
            f.put("recovery_s", Math.round((lastError - from) / 100.0) / 10.0);
            // answered in full again (not degraded) after the service came back
            long restartedAt = from + f.get("down_s").asLong() * 1000;
            window.stream().filter(call -> call.code().equals("OK") && !call.degraded() && call.endMs() > restartedAt)
                    .mapToLong(Call::endMs).min().ifPresent(t -> f.put("full_answers_again_s", Math.round((t - from) / 100.0) / 10.0));
        }
        if (!faults.isEmpty()) {
            out.putArray("faults").addAll(faults);
        }
        Set<String> answered = new HashSet<>();
        all.stream().filter(call -> call.code().equals("OK")).forEach(call -> answered.add(call.traceId()));
        // the generation pod re-sends buffered traces every few seconds: wait long enough for that
        Set<String> arrived = traces(kafka, answered, Duration.ofSeconds(args.integer("trace-wait", 90)));
        out.put("traces_expected", answered.size());
        out.put("lost_traces", answered.size() - arrived.size());

        Path file = Main.writeFigures("bench", "load", out);
        if (args.flag("json")) {
            System.out.println(out);
        } else {
            System.out.println(out.toPrettyString());
        }
        System.err.println("written to " + file);
        return 0;
    }

    static void summarise(ObjectNode out, List<Call> all, int duration) {
        List<Double> ok = all.stream().filter(c -> c.code().equals("OK")).map(Call::millis).toList();
        out.put("requests", all.size());
        out.put("answers", ok.size());
        out.put("degraded_answers", all.stream().filter(Call::degraded).count());
        out.put("answers_per_s", Math.round(ok.size() * 10.0 / duration) / 10.0);
        ObjectNode lat = out.putObject("latency_ms");
        if (!ok.isEmpty()) {
            lat.put("p50", EvalCommand.percentile(ok, 50));
            lat.put("p95", EvalCommand.percentile(ok, 95));
            lat.put("p99", EvalCommand.percentile(ok, 99));
        }
        out.set("errors", errors(new ObjectMapper(), all));
    }

    static ObjectNode errors(ObjectMapper json, List<Call> calls) {
        Map<String, Integer> byCode = new TreeMap<>();
        calls.stream().filter(c -> !c.code().equals("OK")).forEach(c -> byCode.merge(c.code(), 1, Integer::sum));
        ObjectNode n = json.createObjectNode();
        byCode.forEach(n::put);
        return n;
    }

    /** Trace ids among {@code expected} found on heterorag.traces within the timeout. */
    static Set<String> traces(String kafka, Set<String> expected, Duration timeout) {
        Properties p = Main.kafkaProperties(kafka);
        p.put("group.id", "bench-load-" + UUID.randomUUID());
        p.put("auto.offset.reset", "earliest");
        p.put("enable.auto.commit", "false");
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", ByteArrayDeserializer.class.getName());
        Set<String> seen = ConcurrentHashMap.newKeySet();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(p)) {
            consumer.subscribe(List.of("heterorag.traces"));
            long end = System.nanoTime() + timeout.toNanos();
            while (!seen.containsAll(expected) && System.nanoTime() < end) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (expected.contains(r.key())) {
                        seen.add(r.key());
                    }
                }
            }
        }
        return seen;
    }

    /** Kills a process of the embedded stack by its pid file and starts it again with the launcher. */
    static final class Chaos {
        private final Path home = Main.home();
        private final String launcher = Main.env("HETERORAG_LAUNCHER", "./heterorag");

        ObjectNode fault(ObjectMapper json, String name, long start, int atSeconds, int downSeconds) throws IOException, InterruptedException {
            long wait = start + TimeUnit.SECONDS.toNanos(atSeconds) - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            Path pidFile = home.resolve("run").resolve(name + ".pid");
            long pid = Long.parseLong(Files.readString(pidFile).strip());
            long at = (System.nanoTime() - start) / 1_000_000;
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            ProcessHandle.of(pid).ifPresent(h -> h.onExit().join());
            TimeUnit.SECONDS.sleep(downSeconds);
            long t0 = System.nanoTime();
            ProcessBuilder pb = new ProcessBuilder(launcher, "up").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD);
            pb.environment().put("HETERORAG_SKIP_BUILD", "1");
            pb.environment().put("HETERORAG_HOME", home.toString());
            int rc = pb.start().waitFor();
            ObjectNode f = json.createObjectNode();
            f.put("fault", "kill -9 " + name);
            f.put("at_ms", at);
            f.put("down_s", downSeconds);
            f.put("restart_s", Math.round((System.nanoTime() - t0) / 1e8) / 10.0);
            f.put("restarted", rc == 0);
            return f;
        }
    }

    private static int elapsedSeconds(long start) {
        return (int) TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

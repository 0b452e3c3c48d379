package io.heterorag.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.ManagedChannel;
import io.heterorag.proto.v1.GetStatsRequest;
import io.heterorag.proto.v1.RetrievalGrpc;

/**
 * {@code bench ingest [--data DIR] [--split train]}: end-to-end ingest throughput on an empty stack
 * (./heterorag bench ingest starts a scratch one): MedPix published to Kafka, consumed, embedded and
 * indexed by retrieval-service, timed from the first publish until the consumer group has committed
 * everything; where the time went from retrieval-service's per-stage timers.
 */
final class IngestBench {

    private static final Pattern STAGE = Pattern.compile(
            "heterorag_ingest_stage_seconds_sum\\{collection=\"([^\"]+)\",stage=\"([^\"]+)\"} ([0-9.eE+-]+)");

    private IngestBench() {
    }

    static int run(ManagedChannel retrieval, String kafka, String metricsUrl, Args args) throws Exception {
        Path data = Path.of(args.get("data", Main.env("MEDPIX_DIR", "../shared/data/medpix-2.0")));
        String split = args.get("split", "train");
        RetrievalGrpc.RetrievalBlockingStub stub = RetrievalGrpc.newBlockingStub(retrieval);
        long stored = stub.getStats(GetStatsRequest.getDefaultInstance()).getEntriesMap().values().stream().mapToLong(Long::longValue).sum();
        if (stored > 0) {
            throw new IllegalArgumentException("the store already holds " + stored
                    + " entries; measure on an empty stack (./heterorag bench ingest starts one)");
        }
        ObjectNode out = new ObjectMapper().createObjectNode();
        try (AtlasPublisher publisher = new AtlasPublisher(kafka, args.integer("partitions", 4))) {
            AtlasSources.medpix(data, split, publisher::publish);
            Map<String, Long> perCollection = publisher.flush();
            double publishS = publisher.seconds();
            if (!publisher.awaitIndexed(Duration.ofSeconds(args.integer("timeout", 3600)))) {
                return 1;
            }
            double totalS = publisher.seconds();
            out.put("source", "medpix-2.0 " + split);
            out.put("cpus", Runtime.getRuntime().availableProcessors());
            out.put("records", publisher.published());
            out.put("publish_s", round(publishS));
            out.put("end_to_end_s", round(totalS));
            out.put("records_per_s", round(publisher.published() / totalS));
            ObjectNode collections = out.putObject("collections");
            Map<String, Long> entries = stub.getStats(GetStatsRequest.getDefaultInstance()).getEntriesMap();
            perCollection.forEach((c, n) -> collections.putObject(c).put("records", n).put("entries", entries.getOrDefault(c, 0L)));
            // where the consumer's time went, per collection and stage
            Map<String, Double> stages = stageSeconds(metricsUrl);
            double busy = stages.values().stream().mapToDouble(Double::doubleValue).sum();
            ObjectNode time = out.putObject("consumer_seconds");
            stages.forEach((k, v) -> time.put(k, round(v)));
            out.put("consumer_busy_share", round(busy / totalS));
        }
        Path file = Path.of(args.get("out", Path.of(Main.env("HETERORAG_HOME", ".heterorag"), "bench", "ingest.json").toString()));
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, out.toPrettyString());
        System.out.println(args.flag("json") ? out.toString() : out.toPrettyString());
        System.err.println("written to " + file);
        return 0;
    }

    private static Map<String, Double> stageSeconds(String metricsUrl) {
        try {
            String text = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(metricsUrl)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            Map<String, Double> out = new TreeMap<>();
            Matcher m = STAGE.matcher(text);
            while (m.find()) {
                out.merge(m.group(1) + "/" + m.group(2), Double.parseDouble(m.group(3)), Double::sum);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + metricsUrl, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Map.of();
        }
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}

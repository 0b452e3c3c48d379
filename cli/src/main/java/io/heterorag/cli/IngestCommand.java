package io.heterorag.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

import io.grpc.ManagedChannel;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.GetStatsRequest;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.RetrievalGrpc;

/**
 * {@code ingest medpix|corpus|reports|graph …}: reads a MedAtlas source with its adapter, publishes
 * the records to heterorag.atlas.ingest (malformed lines to heterorag.atlas.dlq), then waits until
 * retrieval-service has indexed them and prints the entries each collection gained. Idempotent:
 * re-running an ingest changes nothing.
 */
final class IngestCommand {

    static final String USAGE = """
            usage: ingest medpix DIR [--split train]
                   ingest corpus FILE.jsonl --corpus book|research|wiki|guideline [--source NAME]
                   ingest reports FILE.jsonl|FILE.csv --images DIR [--modality radiology] [--source NAME]
                   ingest graph --terms TERMS.tsv --relations RELATIONS.tsv [--source NAME]
                   options: --no-wait (publish only) --timeout SECONDS (3600) --partitions N (topic created with N, 4)""";

    private IngestCommand() {
    }

    static int run(ManagedChannel retrieval, String kafka, Args args) throws InterruptedException {
        if (args.positional.isEmpty()) {
            throw new Args.UsageException(USAGE);
        }
        Consumer<Consumer<AtlasSources.Item>> source = source(args);
        RetrievalGrpc.RetrievalBlockingStub stats = RetrievalGrpc.newBlockingStub(retrieval);
        Map<String, Long> before = new TreeMap<>(stats.getStats(GetStatsRequest.getDefaultInstance()).getEntriesMap());
        try (AtlasPublisher publisher = new AtlasPublisher(kafka, args.integer("partitions", 4))) {
            source.accept(publisher::publish);
            publisher.flush();
            if (args.flag("no-wait")) {
                return publisher.malformed() == 0 ? 0 : 1;
            }
            if (!publisher.awaitIndexed(Duration.ofSeconds(args.integer("timeout", 3600)))) {
                return 1;
            }
            Map<String, Long> after = stats.getStats(GetStatsRequest.getDefaultInstance()).getEntriesMap();
            // entries, not records: documents are chunked; unchanged and near-duplicate records add none
            new TreeMap<>(after).forEach((c, n) -> {
                long was = before.getOrDefault(c, 0L);
                if (n != was) {
                    System.out.printf("%s: %d -> %d entries%n", c, was, n);
                }
            });
            return publisher.malformed() == 0 ? 0 : 1;
        }
    }

    private static Consumer<Consumer<AtlasSources.Item>> source(Args args) {
        String kind = args.positional.get(0);
        String source = args.get("source", "");
        switch (kind) {
            case "medpix" -> {
                Path dir = file(args, 1);
                String split = args.get("split", "train");
                return out -> AtlasSources.medpix(dir, split, out);
            }
            case "corpus" -> {
                Path file = file(args, 1);
                Corpus corpus = Main.protoEnum(Corpus.class, args.get("corpus", ""), "book, research, wiki, guideline");
                if (corpus == Corpus.GRAPH) {
                    throw new Args.UsageException("the graph corpus is ingested with: ingest graph --terms … --relations …");
                }
                return out -> AtlasSources.corpus(file, corpus, source.isEmpty() ? file.getFileName().toString() : source, out);
            }
            case "reports" -> {
                Path file = file(args, 1);
                Path images = Path.of(args.get("images", ""));
                Modality m = Main.protoEnum(Modality.class, args.get("modality", "radiology"), "radiology, ophthalmology, pathology");
                return out -> AtlasSources.reports(file, images, m, source.isEmpty() ? file.getFileName().toString() : source, out);
            }
            case "graph" -> {
                Path terms = Path.of(args.get("terms", ""));
                Path relations = Path.of(args.get("relations", ""));
                return out -> AtlasSources.graph(terms, relations, source.isEmpty() ? terms.getFileName().toString() : source, out);
            }
            default -> throw new Args.UsageException("unknown source " + kind + "\n" + USAGE);
        }
    }

    private static Path file(Args args, int position) {
        if (args.positional.size() <= position) {
            throw new Args.UsageException(USAGE);
        }
        return Path.of(args.positional.get(position));
    }
}

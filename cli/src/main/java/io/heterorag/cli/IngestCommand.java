package io.heterorag.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.heterorag.proto.v1.AtlasRecord;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.DocumentRecord;
import io.heterorag.proto.v1.Image;
import io.heterorag.proto.v1.IngestRequest;
import io.heterorag.proto.v1.IngestResponse;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.RetrievalGrpc;
import io.heterorag.proto.v1.ReportRecord;

/**
 * {@code ingest medpix DIR [--split train]}: every image of the split with its caption and its case's
 * findings as a radiology report, and topics.jsonl as the book corpus. Idempotent: unchanged records
 * are skipped by the service.
 */
final class IngestCommand {

    static final String SOURCE = "medpix-2.0";

    private IngestCommand() {
    }

    static int run(ManagedChannel channel, Args args) {
        if (args.positional.size() != 2 || !args.positional.get(0).equals("medpix")) {
            throw new Args.UsageException("usage: ingest medpix DIR [--split train]");
        }
        MedPix medpix = new MedPix(Path.of(args.positional.get(1)));
        String split = args.get("split", "train");
        int batchSize = args.integer("batch", 32);
        RetrievalGrpc.RetrievalBlockingStub stub = RetrievalGrpc.newBlockingStub(channel);

        List<AtlasRecord> reports = new ArrayList<>();
        for (MedPix.ImageReport r : medpix.reports(split)) {
            if (!Files.exists(r.path())) {
                System.err.println("warning: image missing, skipped: " + r.path());
                continue;
            }
            reports.add(AtlasRecord.newBuilder().setId("medpix:" + r.image()).setReport(ReportRecord.newBuilder()
                    .setModality(Modality.RADIOLOGY).setImage(Image.newBuilder().setMediaType("image/jpeg")
                            .setData(ByteString.copyFrom(read(r.path()))))
                    .setText(r.report()).setSource(SOURCE).putAllMetadata(r.metadata())).build());
        }
        List<AtlasRecord> topics = new ArrayList<>();
        for (MedPix.Topic t : medpix.topics()) {
            if (!t.content().isBlank()) {
                topics.add(AtlasRecord.newBuilder().setId(t.id()).setDocument(DocumentRecord.newBuilder()
                        .setCorpus(Corpus.BOOK).setTitle(t.title()).setContent(t.content()).setSource(SOURCE + " topics")).build());
            }
        }
        int failed = send(stub, "reports-radiology", reports, batchSize) + send(stub, "corpus-book", topics, batchSize);
        return failed == 0 ? 0 : 1;
    }

    /** Sends in batches, printing progress; returns the number of rejected records. */
    private static int send(RetrievalGrpc.RetrievalBlockingStub stub, String what, List<AtlasRecord> records, int batchSize) {
        long t0 = System.nanoTime();
        int stored = 0, unchanged = 0, rejected = 0;
        for (int i = 0; i < records.size(); i += batchSize) {
            IngestResponse res = stub.ingest(IngestRequest.newBuilder()
                    .addAllRecords(records.subList(i, Math.min(records.size(), i + batchSize))).build());
            stored += res.getStored();
            unchanged += res.getUnchanged();
            rejected += res.getRejectedCount();
            res.getRejectedList().forEach(r -> System.err.println("rejected " + r.getId() + ": " + r.getReason()));
            if (System.console() != null) { // progress on a terminal only; scripts get the summary line
                double secs = (System.nanoTime() - t0) / 1e9;
                int done = Math.min(records.size(), i + batchSize);
                System.err.printf("\r%s: %d/%d (%d stored, %d unchanged, %d rejected) %.1f records/s", what, done,
                        records.size(), stored, unchanged, rejected, done / Math.max(secs, 1e-3));
            }
        }
        if (System.console() != null) {
            System.err.println();
        }
        System.out.printf("%s: %d stored, %d unchanged, %d rejected in %.1f s%n", what, stored, unchanged, rejected,
                (System.nanoTime() - t0) / 1e9);
        return rejected;
    }

    static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + p, e);
        }
    }
}

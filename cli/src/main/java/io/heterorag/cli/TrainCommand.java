package io.heterorag.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.ManagedChannel;
import io.heterorag.proto.v1.GetJobRequest;
import io.heterorag.proto.v1.Job;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.StartJobRequest;
import io.heterorag.proto.v1.TuningGrpc;

/**
 * {@code train modclip --modality M --data DIR [--split train] [--eval-split dev] [--epochs N] [--no-promote] [--json]}:
 * writes the split's image–report pairs as report-repository JSONL, starts a ModCLIP job in
 * tuning-service and follows it to the end. A job that beats the serving model is promoted.
 */
final class TrainCommand {

    private static final ObjectMapper JSON = new ObjectMapper();

    private TrainCommand() {
    }

    static int run(ManagedChannel channel, Args args) throws InterruptedException {
        if (args.positional.size() != 1 || !args.positional.get(0).equals("modclip")) {
            throw new Args.UsageException("usage: train modclip --modality M --data DIR [--epochs N] [--no-promote] [--json]");
        }
        Modality modality = Main.protoEnum(Modality.class, args.required("modality"), "radiology, ophthalmology, pathology");
        MedPix medpix = new MedPix(Path.of(args.required("data")));
        Path dir = tempDir();
        StartJobRequest.Builder req = StartJobRequest.newBuilder().setKind("modclip").setModality(modality)
                .putParameters("train", pairs(medpix, args.get("split", "train"), dir).toString())
                .putParameters("eval", pairs(medpix, args.get("eval-split", "dev"), dir).toString())
                .putParameters("promote", String.valueOf(!args.flag("no-promote")));
        for (String p : List.of("epochs", "batch-size", "learning-rate", "image-size", "dimension", "seed")) {
            String v = args.get(p, null);
            if (v != null) {
                req.putParameters(p.replace('-', '_'), v);
            }
        }
        TuningGrpc.TuningBlockingStub tuning = TuningGrpc.newBlockingStub(channel);
        Job job = tuning.startJob(req.build());
        System.err.println("job " + job.getJobId() + " started");
        String last = "";
        while (job.getState().equals("queued") || job.getState().equals("running")) {
            Thread.sleep(1000);
            job = tuning.getJob(GetJobRequest.newBuilder().setJobId(job.getJobId()).build());
            if (!job.getProgress().equals(last)) {
                last = job.getProgress();
                System.err.println(last);
            }
        }
        if (job.getPromoted()) {
            awaitServed(modality, job.getModel());
        }
        ObjectNode out = JSON.createObjectNode();
        out.put("model", job.getModel());
        out.put("job_id", job.getJobId());
        out.put("state", job.getState());
        out.put("promoted", job.getPromoted());
        out.put("bundle_path", job.getBundlePath());
        job.getMetricsMap().forEach(out::put);
        if (!job.getError().isEmpty()) {
            out.put("error", job.getError());
        }
        System.out.println(args.flag("json") ? out.toString() : out.toPrettyString());
        return job.getState().equals("succeeded") ? 0 : 1;
    }

    /** Retrieval re-embeds the repository with a promoted model before serving it: wait for that. */
    static void awaitServed(Modality modality, String model) throws InterruptedException {
        String endpoint = Main.env("HETERORAG_RETRIEVAL", "127.0.0.1:9101");
        ManagedChannel ch = io.grpc.ManagedChannelBuilder.forTarget(endpoint).usePlaintext().build();
        try {
            var retrieval = io.heterorag.proto.v1.RetrievalGrpc.newBlockingStub(ch);
            long end = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(15);
            System.err.println("waiting for retrieval-service to re-embed the repository and serve " + model);
            while (!retrieval.embed(io.heterorag.proto.v1.EmbedRequest.newBuilder().setModality(modality).build())
                    .getImageEncoder().equals(model)) {
                if (System.nanoTime() > end) {
                    throw new IllegalStateException("retrieval-service did not serve " + model + " within 15 minutes");
                }
                Thread.sleep(1000);
            }
        } finally {
            ch.shutdownNow();
        }
    }

    /** The split's pairs as {id, image_path, report} lines (the report text that ingest stores). */
    static Path pairs(MedPix medpix, String split, Path dir) {
        List<String> lines = new ArrayList<>();
        try {
            for (MedPix.ImageReport r : medpix.reports(split)) {
                if (Files.exists(r.path())) {
                    lines.add(JSON.writeValueAsString(Map.of("id", "medpix:" + r.image(),
                            "image_path", r.path().toAbsolutePath().toString(), "report", r.report())));
                }
            }
            Path f = dir.resolve(split + ".jsonl");
            Files.write(f, lines);
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path tempDir() {
        try {
            return Files.createTempDirectory("modclip-pairs");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

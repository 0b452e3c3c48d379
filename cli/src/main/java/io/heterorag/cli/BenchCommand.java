package io.heterorag.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.heterorag.model.image.BaselineImageBundle;
import io.heterorag.model.bundle.ExecutionProviders;
import io.heterorag.model.image.ImageDecoder;
import io.heterorag.model.image.ImageEncoder;
import io.heterorag.model.bundle.MicroBatcher;
import io.heterorag.model.text.TextEncoder;

/**
 * {@code bench embed [--json] [--requests 256] [--concurrency 8] [--max-batch 16] [--image-bundle DIR] [--data DIR] [--out FILE]}:
 * single-request versus micro-batched throughput of the text and the image encoder, measured in one
 * run on real MedPix captions and images, printed and written to a file.
 */
final class BenchCommand {

    private BenchCommand() {
    }

    static int run(Args args) throws Exception {
        if (args.positional.size() == 1 && args.positional.get(0).equals("vectors")) {
            return VectorBench.run(args);
        }
        if (args.positional.size() == 1 && args.positional.get(0).equals("generate")) {
            return GenerateBench.run(args);
        }
        if (args.positional.size() != 1 || !args.positional.get(0).equals("embed")) {
            throw new Args.UsageException("usage: bench embed [--json] [--requests N] [--concurrency N] [--image-bundle DIR]\n"
                    + "       bench generate [--bundle DIR] [--requests 16] [--concurrency 8] [--max-new-tokens 32] [--json]\n"
                    + "       bench vectors --n N --dim D [--queries 100] [--candidates 100] [--json]");
        }
        int requests = args.integer("requests", 256);
        int concurrency = args.integer("concurrency", 8);
        int maxBatch = args.integer("max-batch", 16);
        MedPix medpix = new MedPix(Path.of(args.get("data", Main.env("MEDPIX_DIR", "../shared/data/medpix-2.0"))));
        List<MedPix.ImageReport> pairs = medpix.reports("dev").stream().filter(r -> Files.exists(r.path())).limit(64).toList();
        // query-like texts (what is embedded per request); long reports are embedded in ingest batches
        List<String> texts = pairs.stream().map(r -> r.report().lines().findFirst().orElse("")).toList();
        List<byte[]> images = new ArrayList<>();
        for (MedPix.ImageReport r : pairs) {
            images.add(AtlasSources.read(r.path()));
        }
        Path bundle = args.get("image-bundle", null) != null ? Path.of(args.get("image-bundle", null))
                : BaselineImageBundle.materialize(Files.createTempDirectory("baseline"));

        ObjectNode out = new ObjectMapper().createObjectNode();
        out.put("requests", requests);
        out.put("concurrency", concurrency);
        out.put("max_batch", maxBatch);
        out.put("cpus", Runtime.getRuntime().availableProcessors());
        ExecutionProviders.Choice ep = ExecutionProviders.choose("auto", 0);
        out.put("execution_provider", ep.provider());
        try (TextEncoder text = TextEncoder.miniLm(ep.options()); ImageEncoder image = ImageEncoder.load(bundle, ep.options())) {
            measure(out.putObject("text"), text.name(), texts, t -> t, in -> Arrays.asList(text.embed(in)), requests, concurrency, maxBatch);
            // as retrieval-service serves a request: decode and preprocess in the request's thread, batch the model call
            measure(out.putObject("image"), image.id(), images, b -> image.pixels(ImageDecoder.decode(b, "")), image::embedEach,
                    requests, concurrency, maxBatch);
        } finally {
            ep.options().close();
        }
        Path file = Path.of(args.get("out", Path.of(Main.env("HETERORAG_HOME", ".heterorag"), "bench", "embed.json").toString()));
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, out.toPrettyString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        System.out.println(args.flag("json") ? out.toString() : out.toPrettyString());
        System.err.println("written to " + file);
        return 0;
    }

    /** prepare runs in each request's thread (as in the services), encoder is the batched model call. */
    private static <I, P> void measure(ObjectNode out, String model, List<I> inputs, Function<I, P> prepare,
            Function<List<P>, List<float[]>> encoder, int requests, int concurrency, int maxBatch) throws Exception {
        encoder.apply(inputs.subList(0, Math.min(8, inputs.size())).stream().map(prepare).toList()); // warm-up
        long t0 = System.nanoTime();
        for (int i = 0; i < requests; i++) {
            encoder.apply(List.of(prepare.apply(inputs.get(i % inputs.size()))));
        }
        double single = requests / ((System.nanoTime() - t0) / 1e9);
        ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        try (MicroBatcher<P, float[]> batcher = new MicroBatcher<>("bench", encoder, maxBatch, 2000)) {
            long t1 = System.nanoTime();
            List<Future<float[]>> futures = new ArrayList<>();
            for (int i = 0; i < requests; i++) {
                I input = inputs.get(i % inputs.size());
                futures.add(pool.submit(() -> batcher.submit(prepare.apply(input))));
            }
            for (Future<float[]> f : futures) {
                f.get();
            }
            double batched = requests / ((System.nanoTime() - t1) / 1e9);
            out.put("model", model);
            out.put("single_per_s", Math.round(single * 10) / 10.0);
            out.put("batched_per_s", Math.round(batched * 10) / 10.0);
            out.put("speedup", Math.round(batched / single * 100) / 100.0);
        } finally {
            pool.shutdownNow();
        }
    }
}

package io.heterorag.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.heterorag.model.bundle.ExecutionProviders;
import io.heterorag.model.bundle.ModelBundles;
import io.heterorag.model.generation.DecodingOptions;
import io.heterorag.model.generation.Generation;
import io.heterorag.model.generation.GenerationInput;
import io.heterorag.model.generation.OnnxGenerator;
import io.heterorag.model.generation.RagPrompt;
import io.heterorag.model.image.ImageDecoder;

/**
 * {@code bench generate [--bundle DIR] [--requests 16] [--concurrency 8] [--max-new-tokens 32] [--task report_generation]
 * [--provider cpu] [--json]}:
 * the generator in-process on ONNX Runtime, greedy decoding of served-size RAG prompts on MedPix dev
 * images: one request at a time, then {@code concurrency} at once (decoded together by the
 * runtime's batching scheduler), with time to first token and whether batching changed any token.
 * The default bundle is the newest trained heterorag-vlm under $HETERORAG_HOME/data/tuning/models/.
 */
final class GenerateBench {

    static final String QUESTION = "What abnormality is seen in this image?";

    private GenerateBench() {
    }

    static int run(Args args) throws Exception {
        Path bundle = args.get("bundle", null) != null ? Path.of(args.get("bundle", null)) : newestTrained(Main.home());
        int requests = args.integer("requests", 16);
        int concurrency = args.integer("concurrency", 8);
        int maxNew = args.integer("max-new-tokens", 32);
        // report generation by default: a trained model writes long answers there, short ones to questions
        String task = args.get("task", "report_generation");
        if (!List.of("report_generation", "open_vqa", "closed_vqa").contains(task)) {
            throw new Args.UsageException("--task must be report_generation, open_vqa or closed_vqa");
        }
        if (requests < 1 || concurrency < 1 || maxNew < 1) {
            throw new Args.UsageException("--requests, --concurrency and --max-new-tokens must be at least 1");
        }
        if (!Files.isDirectory(bundle)) {
            throw new IllegalArgumentException("generator bundle " + bundle + " is not a directory");
        }
        MedPix medpix = new MedPix(Path.of(args.get("data", Main.env("MEDPIX_DIR", "../shared/data/medpix-2.0"))));
        List<MedPix.ImageReport> pairs = medpix.reports("dev").stream().filter(r -> Files.exists(r.path())).limit(requests).toList();
        List<MedPix.Topic> topics = medpix.topics();
        ExecutionProviders.Choice ep = ExecutionProviders.choose(args.get("provider", "cpu"), 0);
        ObjectNode out = new ObjectMapper().createObjectNode();
        try (OnnxGenerator generator = OnnxGenerator.load(bundle, ep)) {
            DecodingOptions greedy = DecodingOptions.greedy(maxNew);
            List<GenerationInput> inputs = new ArrayList<>();
            for (int i = 0; i < requests; i++) {
                MedPix.ImageReport r = pairs.get(i % pairs.size());
                // as served: two knowledge documents and a reference report, fitted to the context
                RagPrompt prompt = new RagPrompt(task, task.equals("report_generation") ? "" : QUESTION, List.of(),
                        List.of(document(topics.get((2 * i) % topics.size())), document(topics.get((2 * i + 1) % topics.size()))),
                        List.of(pairs.get((i + 1) % pairs.size()).report()));
                GenerationInput probe = new GenerationInput(ImageDecoder.decode(AtlasSources.read(r.path()), ""), "");
                int budget = generator.contextLength() - generator.overheadTokens(probe) - maxNew;
                inputs.add(new GenerationInput(probe.image(), prompt.fit(generator::countTokens, budget).text()));
            }
            generator.generate(inputs.get(0), greedy, null); // warm-up: session initialisation, first allocations

            List<Generation> single = new ArrayList<>();
            long t0 = System.nanoTime();
            for (GenerationInput in : inputs) {
                single.add(generator.generate(in, greedy, null));
            }
            double singleSeconds = (System.nanoTime() - t0) / 1e9;

            ExecutorService pool = Executors.newFixedThreadPool(concurrency);
            List<Generation> batched = new ArrayList<>();
            long t1 = System.nanoTime();
            try {
                List<Future<Generation>> futures = new ArrayList<>();
                for (GenerationInput in : inputs) {
                    futures.add(pool.submit(() -> generator.generate(in, greedy, null)));
                }
                for (Future<Generation> f : futures) {
                    batched.add(f.get());
                }
            } finally {
                pool.shutdownNow();
            }
            double batchedSeconds = (System.nanoTime() - t1) / 1e9;

            boolean identical = true;
            for (int i = 0; i < requests; i++) {
                identical &= Arrays.equals(single.get(i).tokenIds(), batched.get(i).tokenIds());
            }
            out.put("bundle", bundle.toAbsolutePath().toString());
            out.put("generator", generator.id());
            out.put("family", generator.family());
            out.put("execution_provider", ep.provider());
            out.put("cpus", Runtime.getRuntime().availableProcessors());
            out.put("requests", requests);
            out.put("concurrency", concurrency);
            out.put("max_new_tokens", maxNew);
            out.put("task", task);
            out.put("prompt_tokens_mean", round(single.stream().mapToInt(Generation::promptTokens).average().orElse(0)));
            out.put("generated_tokens", tokens(single));
            double meanGenerated = (double) tokens(single) / requests;
            out.put("generated_tokens_mean", round(meanGenerated));
            out.put("single_tokens_per_s", round(tokens(single) / singleSeconds));
            out.put("batched_tokens_per_s", round(tokens(batched) / batchedSeconds));
            out.put("speedup", Math.round(tokens(batched) / batchedSeconds / (tokens(single) / singleSeconds) * 100) / 100.0);
            List<Double> ttft = single.stream().map(g -> g.firstTokenNanos() / 1e6).toList();
            out.put("ttft_p50_ms", EvalCommand.percentile(ttft, 50));
            out.put("ttft_p95_ms", EvalCommand.percentile(ttft, 95));
            List<Double> batchedTtft = batched.stream().map(g -> g.firstTokenNanos() / 1e6).toList();
            out.put("batched_ttft_p50_ms", EvalCommand.percentile(batchedTtft, 50));
            out.put("identical_outputs", identical);
        } finally {
            ep.options().close();
        }
        Path file = Main.writeFigures("bench", "generate", out);
        if (out.path("generated_tokens_mean").asDouble() < 8) {
            System.err.println("note: the model ended its answers after " + out.path("generated_tokens_mean").asDouble()
                    + " tokens on average: the rates are mostly prompt processing, not decoding");
        }
        System.out.println(args.flag("json") ? out.toString() : out.toPrettyString());
        System.err.println("written to " + file);
        return 0;
    }

    /**
     * The newest heterorag-vlm bundle the tuning service wrote. The runtime's tiny test fixtures are no
     * measure of a served model, so without a trained one the benchmark refuses to run.
     */
    static Path newestTrained(Path home) {
        Path models = home.resolve("data").resolve("tuning").resolve("models");
        List<Path> bundles = List.of();
        if (Files.isDirectory(models)) {
            try (Stream<Path> s = Files.list(models)) {
                // bundle.json is written last, when the export is complete (a job cut short leaves none)
                bundles = s.filter(p -> p.getFileName().toString().startsWith("heterorag-vlm-") && ModelBundles.exists(p))
                        .sorted(Comparator.comparing(GenerateBench::modified).reversed()).toList();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        if (bundles.isEmpty()) {
            throw new IllegalArgumentException("no trained generator under " + models
                    + ": train one first (./heterorag train generator --vqa DIR --medpix DIR) or pass --bundle DIR");
        }
        return bundles.get(0);
    }

    private static long modified(Path p) {
        try {
            return Files.getLastModifiedTime(p.resolve(ModelBundles.MANIFEST)).toMillis();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String document(MedPix.Topic t) {
        return t.title() + ": " + t.content();
    }

    private static long tokens(List<Generation> gs) {
        return gs.stream().mapToLong(g -> g.tokenIds().length).sum();
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }
}

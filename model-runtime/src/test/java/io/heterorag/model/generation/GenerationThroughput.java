package io.heterorag.model.generation;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import io.heterorag.model.bundle.ExecutionProviders;

/**
 * Greedy decoding throughput of OnnxGenerator on CPU, one request at a time vs N concurrent
 * requests (batched by the scheduler), on a seeded model of the platform's default size
 * (VlmConfig.llavaDefaults: hidden 128, 2 layers, context 320). Not a test: run by hand
 * (see docs/generator.md, "Runtime"). Arguments: [requests] [maxNewTokens] [threads].
 */
public final class GenerationThroughput {

    public static void main(String[] args) throws Exception {
        int requests = args.length > 0 ? Integer.parseInt(args[0]) : 16;
        int maxNew = args.length > 1 ? Integer.parseInt(args[1]) : 48;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        Path dir = Files.createTempDirectory("vlm-throughput");
        String tokenizer = TinyVlmBundles.tokenizerJson(List.of());
        VlmConfig cfg = VlmConfig.llavaDefaults(WordPieceVocabulary.vocabularySize(tokenizer));
        VlmOnnxExport.write(dir, cfg, TinyVlmBundles.weights(cfg), tokenizer);
        List<GenerationInput> inputs = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
            BufferedImage img = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
            img.setRGB(i % 64, (7 * i) % 64, 0xffffff);
            inputs.add(new GenerationInput(img, "question " + i + ": is there a pleural effusion in the left lung?"));
        }
        DecodingOptions o = DecodingOptions.greedy(maxNew);
        ExecutionProviders.Choice cpu = ExecutionProviders.choose("cpu", threads);
        for (int batch : new int[] {1, 8}) {
            try (OnnxGenerator g = OnnxGenerator.load(dir, cpu, new OnnxGenerator.Batching(batch, Duration.ofMillis(2)))) {
                run(g, inputs.subList(0, Math.min(4, requests)), o, batch); // warm-up
                long before = g.stats().generatedTokens();
                long calls = g.stats().decoderCalls();
                long t0 = System.nanoTime();
                run(g, inputs, o, batch);
                double s = (System.nanoTime() - t0) / 1e9;
                long tokens = g.stats().generatedTokens() - before;
                System.out.printf("max batch %d, %d concurrent callers: %d tokens in %.2f s = %.0f tokens/s, %.1f tokens per decoder call%n",
                        batch, batch, tokens, s, tokens / s, (double) tokens / (g.stats().decoderCalls() - calls));
            }
        }
        cpu.options().close();
    }

    private static void run(OnnxGenerator g, List<GenerationInput> inputs, DecodingOptions o, int callers) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(callers);
        try {
            List<Future<Generation>> fs = new ArrayList<>();
            for (GenerationInput in : inputs) {
                fs.add(pool.submit(() -> g.generate(in, o, null)));
            }
            for (Future<Generation> f : fs) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}

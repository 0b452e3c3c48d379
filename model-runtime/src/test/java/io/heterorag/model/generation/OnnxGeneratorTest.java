package io.heterorag.model.generation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import ai.onnx.proto.OnnxMl;
import io.heterorag.model.bundle.ExecutionProviders;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxGeneratorTest {

    @TempDir
    static Path shared;

    static Path llavaDir;
    static ExecutionProviders.Choice cpu;
    static OnnxGenerator llava;

    @BeforeAll
    static void load() {
        llavaDir = TinyVlmBundles.llava(shared.resolve("llava"));
        cpu = ExecutionProviders.choose("cpu", 1);
        llava = OnnxGenerator.load(llavaDir, cpu);
    }

    @AfterAll
    static void close() {
        llava.close();
        cpu.options().close();
    }

    static BufferedImage image(Color color, int w, int h) {
        return GeneratorContract.image(color, w, h);
    }

    static final List<GenerationInput> INPUTS = GeneratorContract.INPUTS;

    @Test
    void loadsTheBundleWithItsIdFamilyAndTokenLayout() {
        assertEquals("tiny-vlm@test", llava.id());
        assertEquals("llava", llava.family());
        assertEquals(128, llava.contextLength());
        GenerationInput in = INPUTS.get(0);
        int text = llava.countTokens(in.prompt());
        assertTrue(text >= 5, "words and punctuation: " + text);
        int[] ids = llava.inputIds(in, "no");
        // [bos] + 4 image tokens + prompt + response + eos
        assertEquals(1 + 4, llava.overheadTokens(in));
        assertEquals(WordPieceVocabulary.BOS_ID, ids[0]);
        for (int i = 1; i <= 4; i++) {
            assertEquals(WordPieceVocabulary.IMAGE_ID, ids[i]);
        }
        assertEquals(1 + 4 + text + 1 + 1, ids.length);
        assertEquals(WordPieceVocabulary.EOS_ID, ids[ids.length - 1]);
        assertEquals(1, llava.overheadTokens(new GenerationInput(null, "findings")), "text-only: just bos");
    }

    @Test
    void thePromptTemplateGoesAroundThePromptText() throws Exception {
        Path dir = copyOf(llavaDir, shared.resolve("template"));
        Files.writeString(dir.resolve("prompt_template.json"), "{\"prefix\": \"question: \", \"suffix\": \" answer:\"}");
        try (OnnxGenerator templated = OnnxGenerator.load(dir, cpu)) {
            GenerationInput in = INPUTS.get(4);
            // the BERT pre-tokenizer splits at spaces and punctuation, so the counts add up
            assertEquals(llava.overheadTokens(in) + llava.countTokens("question:") + llava.countTokens("answer:"), templated.overheadTokens(in));
            int[] plain = llava.inputIds(in, "");
            int[] ids = templated.inputIds(in, "");
            assertArrayEquals(java.util.Arrays.copyOf(plain, 5), java.util.Arrays.copyOf(ids, 5), "bos and image tokens first");
            assertEquals(templated.countTokens("question: mass answer:") + 5 + 1, ids.length);
        }
    }

    @Test
    void cachedDecodingGivesTheSameTokensAsRecomputingTheWholeSequence() {
        for (GenerationInput in : INPUTS.subList(0, 4)) {
            DecodingOptions o = DecodingOptions.greedy(24);
            Generation cached = llava.generate(in, o, null);
            Generation full = llava.generateWithoutCache(in, o);
            assertTrue(cached.tokenIds().length >= 3, "a few tokens at least: " + cached.tokenIds().length);
            assertArrayEquals(full.tokenIds(), cached.tokenIds());
            assertEquals(full.text(), cached.text());
            assertEquals(full.finishReason(), cached.finishReason());
        }
        DecodingOptions sampled = new DecodingOptions(24, 0.9f, 0.95f, 20, 11, 1.2f, List.of(), List.of());
        assertArrayEquals(llava.generateWithoutCache(INPUTS.get(1), sampled).tokenIds(),
                llava.generate(INPUTS.get(1), sampled, null).tokenIds());
    }

    @Test
    void theImageChangesTheAnswer() {
        DecodingOptions o = DecodingOptions.greedy(12);
        String q = "what is shown?";
        assertNotEquals(llava.generate(new GenerationInput(image(Color.RED, 32, 32), q), o, null).text(),
                llava.generate(new GenerationInput(image(Color.BLUE, 40, 40), q), o, null).text());
    }

    @Test
    void concurrentRequestsAreDecodedTogetherWithTheSameTokensAsAlone() throws Exception {
        DecodingOptions o = DecodingOptions.greedy(20);
        List<int[]> alone = new ArrayList<>();
        long tokens = 0;
        for (GenerationInput in : INPUTS) {
            Generation g = llava.generate(in, o, null);
            alone.add(g.tokenIds());
            tokens += g.tokenIds().length;
        }
        // a wide admission window so all eight are prefilled as one batch, then decoded together
        try (OnnxGenerator batched = OnnxGenerator.load(llavaDir, cpu, new OnnxGenerator.Batching(8, Duration.ofMillis(500)))) {
            ExecutorService pool = Executors.newFixedThreadPool(INPUTS.size());
            try {
                List<Future<Generation>> futures = new ArrayList<>();
                for (GenerationInput in : INPUTS) {
                    futures.add(pool.submit(() -> batched.generate(in, o, null)));
                }
                for (int i = 0; i < INPUTS.size(); i++) {
                    assertArrayEquals(alone.get(i), futures.get(i).get().tokenIds(), "request " + i);
                }
            } finally {
                pool.shutdownNow();
            }
            OnnxGenerator.Stats s = batched.stats();
            assertEquals(0, s.waiting());
            assertEquals(0, s.decoding());
            assertTrue(s.generatedTokens() >= tokens, s.toString());
            // one call per step of the longest request (+ prefill), not one per token
            assertTrue(s.decoderCalls() <= 21 + 1, "decoder calls " + s.decoderCalls() + " for " + s.generatedTokens() + " tokens");
        }
    }

    @Test
    void requestsWithDifferentOptionsShareABatchAndKeepTheirOwnResults() throws Exception {
        List<DecodingOptions> options = List.of(
                new DecodingOptions(20, 0.8f, 0.9f, 0, 3, 1.3f, List.of(), List.of()),
                DecodingOptions.greedy(6),
                DecodingOptions.greedy(10).withChoices(List.of("yes", "no")),
                new DecodingOptions(30, 1.0f, 1f, 10, 4, 1f, List.of(), List.of()),
                new DecodingOptions(25, 0, 1, 0, 0, 1.2f, List.of(" the"), List.of()));
        List<Generation> alone = new ArrayList<>();
        for (int i = 0; i < options.size(); i++) {
            alone.add(llava.generate(INPUTS.get(i), options.get(i), null));
        }
        try (OnnxGenerator batched = OnnxGenerator.load(llavaDir, cpu, new OnnxGenerator.Batching(8, Duration.ofMillis(500)))) {
            ExecutorService pool = Executors.newFixedThreadPool(options.size());
            try {
                List<Future<Generation>> futures = new ArrayList<>();
                for (int i = 0; i < options.size(); i++) {
                    GenerationInput in = INPUTS.get(i);
                    DecodingOptions o = options.get(i);
                    futures.add(pool.submit(() -> batched.generate(in, o, null)));
                }
                for (int i = 0; i < options.size(); i++) {
                    Generation g = futures.get(i).get();
                    assertArrayEquals(alone.get(i).tokenIds(), g.tokenIds(), "request " + i);
                    assertEquals(alone.get(i).text(), g.text());
                    assertEquals(alone.get(i).finishReason(), g.finishReason());
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void closingFromAnInterruptedThreadWaitsForTheStepInProgress() throws Exception {
        // a graceful shutdown: the last request to release the model was interrupted while it waited, and closed it from
        // that thread; the sessions were closed under the running step and onnxruntime crashed the process (SIGSEGV)
        OnnxGenerator g = OnnxGenerator.load(llavaDir, cpu);
        CountDownLatch inStep = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        g.beforeEachStep(() -> {
            inStep.countDown();
            while (true) {
                try {
                    release.await();
                    return;
                } catch (InterruptedException e) {
                    // the step in progress is not interruptible either
                }
            }
        });
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<Generation> request = pool.submit(() -> g.generate(INPUTS.get(0), DecodingOptions.greedy(40), null));
            assertTrue(inStep.await(30, TimeUnit.SECONDS), "decoding started");
            AtomicBoolean stillInterrupted = new AtomicBoolean();
            Thread closer = new Thread(() -> {
                Thread.currentThread().interrupt();
                g.close();
                stillInterrupted.set(Thread.currentThread().isInterrupted());
            });
            closer.start();
            closer.join(500);
            boolean waited = closer.isAlive();
            if (waited) {
                release.countDown(); // else the step stays parked: running it on closed sessions would crash this JVM
            }
            assertTrue(waited, "close returned while a step was in progress");
            closer.join(30_000);
            assertFalse(closer.isAlive(), "close ends once the step has");
            assertTrue(stillInterrupted.get(), "the caller's interrupt is kept");
            ExecutionException e = assertThrows(ExecutionException.class, request::get);
            assertTrue(e.getCause().getMessage().contains("generator closed"), e.getCause().toString());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aRequestArrivingMidwayJoinsTheRunningBatchAndGetsTheSameTokens() throws Exception {
        DecodingOptions longer = DecodingOptions.greedy(60);
        DecodingOptions shorter = DecodingOptions.greedy(20);
        int[] first = llava.generate(INPUTS.get(3), longer, null).tokenIds();
        int[] second = llava.generate(INPUTS.get(4), shorter, null).tokenIds();
        assertTrue(first.length > 30, "the first request runs long enough for another to join: " + first.length);
        try (OnnxGenerator batched = OnnxGenerator.load(llavaDir, cpu, new OnnxGenerator.Batching(4, Duration.ofMillis(1)))) {
            // the first decode step waits until the second request is queued: it must join a running batch
            CountDownLatch queued = new CountDownLatch(1);
            batched.beforeEachStep(() -> {
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (queued.getCount() > 0 && System.nanoTime() < deadline) {
                    if (batched.stats().waiting() > 0) {
                        queued.countDown();
                    }
                    Thread.onSpinWait();
                }
            });
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                CountDownLatch started = new CountDownLatch(1);
                Future<Generation> a = pool.submit(() -> batched.generate(INPUTS.get(3), longer, t -> started.countDown()));
                started.await();
                Future<Generation> b = pool.submit(() -> batched.generate(INPUTS.get(4), shorter, null));
                assertArrayEquals(second, b.get().tokenIds());
                assertArrayEquals(first, a.get().tokenIds());
                assertEquals(0, queued.getCount(), "the second request was queued while the first decoded");
            } finally {
                pool.shutdownNow();
            }
            long calls = batched.stats().decoderCalls();
            assertTrue(calls < first.length + second.length, "the second joined the batch: " + calls + " calls for "
                    + (first.length + second.length) + " tokens");
        }
    }

    @Test
    void theTextIsStreamedTokenByToken() {
        List<String> chunks = new ArrayList<>();
        Generation g = llava.generate(INPUTS.get(0), DecodingOptions.greedy(16), chunks::add);
        assertTrue(chunks.size() >= 3, "several chunks: " + chunks.size());
        assertEquals(g.text(), String.join("", chunks));
        assertEquals("length", g.finishReason());
        assertEquals(16, g.tokenIds().length);
        assertTrue(g.firstTokenNanos() > 0 && g.firstTokenNanos() <= g.totalNanos());
    }

    @Test
    void aRequestAbortedInsideABatchLeavesItWithoutDisturbingTheOthers() throws Exception {
        DecodingOptions o = DecodingOptions.greedy(24);
        int[] a = llava.generate(INPUTS.get(0), o, null).tokenIds();
        int[] c = llava.generate(INPUTS.get(2), o, null).tokenIds();
        try (OnnxGenerator batched = OnnxGenerator.load(llavaDir, cpu, new OnnxGenerator.Batching(8, Duration.ofMillis(500)))) {
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                Future<Generation> fa = pool.submit(() -> batched.generate(INPUTS.get(0), o, null));
                Future<Generation> fb = pool.submit(() -> batched.generate(INPUTS.get(1), o, t -> {
                    throw new IllegalStateException("client went away");
                }));
                Future<Generation> fc = pool.submit(() -> batched.generate(INPUTS.get(2), o, null));
                assertArrayEquals(a, fa.get().tokenIds());
                assertArrayEquals(c, fc.get().tokenIds());
                ExecutionException e = assertThrows(ExecutionException.class, fb::get);
                assertEquals("client went away", e.getCause().getMessage());
            } finally {
                pool.shutdownNow();
            }
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (batched.stats().decoding() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(0, batched.stats().decoding(), "the aborted request left the batch");
        }
    }

    @Test
    void aCompleteChoiceAtTheTokenBudgetEndsAsClosed() {
        // a budget of one token: a one-token choice is complete, the end token is implied
        Generation one = llava.generate(INPUTS.get(0), DecodingOptions.greedy(1).withChoices(List.of("yes", "no")), null);
        assertEquals("closed", one.finishReason());
        assertTrue(List.of("yes", "no").contains(one.text()));
        assertEquals(1, one.tokenIds().length);
    }

    @Test
    void logProbIsTheSumOfTheResponseTokensLogSoftmax() {
        GenerationInput in = INPUTS.get(3);
        String response = "left upper lobe";
        int[] ids = llava.inputIds(in, response);
        float[][] logits = llava.logits(in, response);
        assertEquals(ids.length, logits.length);
        int responseTokens = llava.countTokens(response) + 1;
        double sum = 0;
        for (int t = ids.length - responseTokens; t < ids.length; t++) {
            sum += OnnxGenerator.logSoftmax(logits[t - 1], 0, logits[t - 1].length, ids[t]);
        }
        double lp = llava.logProb(in, response);
        assertEquals(sum, lp, 1e-9);
        assertTrue(lp < 0);
        // the greedy answer is more likely than an arbitrary one
        Generation g = llava.generate(in, DecodingOptions.greedy(3), null);
        assertTrue(llava.logProb(in, g.text()) > llava.logProb(in, "kidney fracture ;"), g.text());
    }

    @Test
    void qwen2VlAdapterLaysOutTheImageAndDecodesWithRopePositions() {
        Path dir = TinyVlmBundles.qwen2vl(shared.resolve("qwen"));
        try (OnnxGenerator qwen = OnnxGenerator.load(dir, cpu)) {
            assertEquals("qwen2_vl", qwen.family());
            assertEquals("tiny-qwen2-vl@test", qwen.id());
            GenerationInput in = new GenerationInput(image(Color.GRAY, 70, 50), "is there a mass?");
            int[] ids = qwen.inputIds(in, "no");
            // 56 x 56 after smart resize (min = max pixels = 56²): 4 x 4 patches, 2 x 2 after merge
            assertArrayEquals(new int[] {5, 4, 4, 4, 4, 6}, java.util.Arrays.copyOf(ids, 6));
            assertEquals(6, qwen.overheadTokens(in));
            for (GenerationInput x : List.of(in, new GenerationInput(null, "findings"), INPUTS.get(1))) {
                DecodingOptions o = DecodingOptions.greedy(16);
                Generation cached = qwen.generate(x, o, null);
                assertTrue(cached.tokenIds().length > 3);
                assertArrayEquals(qwen.generateWithoutCache(x, o).tokenIds(), cached.tokenIds());
            }
        }
        // batched: left-padded 3-axis positions and the per-row rope delta in the decode steps
        try (OnnxGenerator qwen = OnnxGenerator.load(dir, cpu, new OnnxGenerator.Batching(8, Duration.ofMillis(500)))) {
            DecodingOptions o = DecodingOptions.greedy(12);
            List<int[]> alone = new ArrayList<>();
            for (GenerationInput x : INPUTS) {
                alone.add(qwen.generateWithoutCache(x, o).tokenIds());
            }
            ExecutorService pool = Executors.newFixedThreadPool(INPUTS.size());
            try {
                List<Future<Generation>> futures = new ArrayList<>();
                for (GenerationInput x : INPUTS) {
                    futures.add(pool.submit(() -> qwen.generate(x, o, null)));
                }
                for (int i = 0; i < INPUTS.size(); i++) {
                    assertArrayEquals(alone.get(i), futures.get(i).get().tokenIds(), "request " + i);
                }
            } catch (Exception e) {
                throw new AssertionError(e);
            } finally {
                pool.shutdownNow();
            }
            assertTrue(qwen.stats().decoderCalls() <= 13, qwen.stats().toString());
        }
    }

    @Test
    void malformedBundlesAreRefusedNamingWhatIsMissing() throws Exception {
        Path copy = copyOf(llavaDir, shared.resolve("no-tokenizer"));
        Files.delete(copy.resolve("tokenizer.json"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxGenerator.load(copy, cpu));
        assertTrue(e.getMessage().contains("has no tokenizer.json"), e.getMessage());

        Path other = copyOf(llavaDir, shared.resolve("gpt2"));
        Files.writeString(other.resolve("config.json"), Files.readString(other.resolve("config.json")).replace("\"llava\"", "\"gpt2\""));
        e = assertThrows(IllegalArgumentException.class, () -> OnnxGenerator.load(other, cpu));
        assertTrue(e.getMessage().contains("model_type 'gpt2'") && e.getMessage().contains("llava, qwen2_vl"), e.getMessage());

        // a decoder whose first layer's past key input is named otherwise (still a valid ONNX graph)
        Path renamed = copyOf(llavaDir, shared.resolve("no-past"));
        Path decoder = renamed.resolve("decoder_model_merged.onnx");
        OnnxMl.ModelProto m = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(decoder));
        OnnxMl.GraphProto.Builder g = m.getGraph().toBuilder();
        String old = "past_key_values.0.key";
        for (int i = 0; i < g.getInputCount(); i++) {
            if (g.getInput(i).getName().equals(old)) {
                g.setInput(i, g.getInput(i).toBuilder().setName("past_0_key"));
            }
        }
        for (OnnxMl.NodeProto.Builder n : g.getNodeBuilderList()) {
            for (int i = 0; i < n.getInputCount(); i++) {
                if (n.getInput(i).equals(old)) {
                    n.setInput(i, "past_0_key");
                }
            }
        }
        Files.write(decoder, m.toBuilder().setGraph(g).build().toByteArray());
        e = assertThrows(IllegalArgumentException.class, () -> OnnxGenerator.load(renamed, cpu));
        assertTrue(e.getMessage().contains("decoder_model_merged.onnx has no input past_key_values.0.key"), e.getMessage());
    }

    @Test
    void aDecoderWithAUseCacheBranchInputIsFedIt() throws Exception {
        // older merged exports take a bool use_cache_branch (false at the first step, true with a past)
        Path dir = copyOf(llavaDir, shared.resolve("cache-branch"));
        Path decoder = dir.resolve("decoder_model_merged.onnx");
        OnnxMl.ModelProto m = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(decoder));
        OnnxMl.GraphProto.Builder g = m.getGraph().toBuilder().addInput(OnnxMl.ValueInfoProto.newBuilder().setName("use_cache_branch")
                .setType(OnnxMl.TypeProto.newBuilder().setTensorType(OnnxMl.TypeProto.Tensor.newBuilder()
                        .setElemType(OnnxMl.TensorProto.DataType.BOOL.getNumber())
                        .setShape(OnnxMl.TensorShapeProto.newBuilder().addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(1))))));
        // consumed by a node and an output, so the graph really needs it
        g.addNode(OnnxMl.NodeProto.newBuilder().setOpType("Identity").addInput("use_cache_branch").addOutput("cache_branch_taken"));
        g.addOutput(g.getInput(g.getInputCount() - 1).toBuilder().setName("cache_branch_taken"));
        Files.write(decoder, m.toBuilder().setGraph(g).build().toByteArray());
        try (OnnxGenerator gen = OnnxGenerator.load(dir, cpu)) {
            DecodingOptions o = DecodingOptions.greedy(8);
            assertArrayEquals(llava.generate(INPUTS.get(0), o, null).tokenIds(), gen.generate(INPUTS.get(0), o, null).tokenIds());
        }
    }

    @Test
    void aClipStylePreprocessorResizesTheShortestEdgeAndCropsTheCenter() throws Exception {
        Path dir = copyOf(llavaDir, shared.resolve("center-crop"));
        com.google.gson.JsonObject pre = BundleJson.read(dir, "preprocessor_config.json");
        com.google.gson.JsonObject size = new com.google.gson.JsonObject();
        size.addProperty("shortest_edge", 32);
        pre.add("size", size);
        pre.addProperty("do_center_crop", true);
        Files.writeString(dir.resolve("preprocessor_config.json"), pre.toString());
        // the same 32 x 32 centre, different borders left and right
        BufferedImage red = image(Color.GRAY, 64, 32);
        BufferedImage blue = image(Color.GRAY, 64, 32);
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 16; x++) {
                red.setRGB(x, y, 0xff0000);
                red.setRGB(63 - x, y, 0xff0000);
                blue.setRGB(x, y, 0x0000ff);
                blue.setRGB(63 - x, y, 0x0000ff);
            }
        }
        String q = "what is shown?";
        try (OnnxGenerator cropping = OnnxGenerator.load(dir, cpu)) {
            assertArrayEquals(cropping.logits(new GenerationInput(red, q), "")[8], cropping.logits(new GenerationInput(blue, q), "")[8]);
        }
        assertFalse(java.util.Arrays.equals(llava.logits(new GenerationInput(red, q), "")[8], llava.logits(new GenerationInput(blue, q), "")[8]),
                "squashing keeps the borders");
    }

    static Path copyOf(Path from, Path to) throws Exception {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
        return to;
    }
}

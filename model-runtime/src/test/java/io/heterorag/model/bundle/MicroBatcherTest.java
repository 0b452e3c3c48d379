package io.heterorag.model.bundle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import io.heterorag.model.image.BaselineImageBundle;
import io.heterorag.model.image.ImageDecoder;
import io.heterorag.model.image.ImageEncoder;
import io.heterorag.model.image.MedPixImages;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MicroBatcherTest {

    @TempDir
    Path dir;

    @Test
    void concurrentRequestsAreBatchedAndGetTheirOwnUnbatchedResult() throws Exception {
        ExecutionProviders.Choice cpu = ExecutionProviders.choose("cpu", 1);
        List<String> names = List.of("MPX1007_synpic46719", "MPX1009_synpic46283", "MPX1012_synpic22949", "MPX1014_synpic41745");
        List<BufferedImage> images = new ArrayList<>();
        for (String n : names) {
            images.add(ImageDecoder.decode(MedPixImages.bytes(n), ""));
        }
        ConcurrentLinkedQueue<Integer> sizes = new ConcurrentLinkedQueue<>();
        try (ImageEncoder enc = ImageEncoder.load(BaselineImageBundle.materialize(dir), cpu.options());
                MicroBatcher<BufferedImage, float[]> batcher = new MicroBatcher<>("test", in -> {
                    sizes.add(in.size());
                    return Arrays.asList(enc.embed(in));
                }, 8, 20_000)) {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            List<Future<float[]>> futures = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                BufferedImage img = images.get(i % images.size());
                futures.add(pool.submit(() -> batcher.submit(img)));
            }
            for (int i = 0; i < futures.size(); i++) {
                assertArrayEquals(enc.embed(List.of(images.get(i % images.size())))[0], futures.get(i).get(), 1e-5f,
                        "request " + i + " gets its own image's embedding");
            }
            pool.shutdown();
            assertEquals(64, sizes.stream().mapToInt(Integer::intValue).sum());
            assertTrue(sizes.stream().anyMatch(s -> s > 1), "some calls were batched: " + sizes);
            assertTrue(sizes.stream().allMatch(s -> s <= 8), "no batch above the maximum: " + sizes);
        } finally {
            cpu.options().close();
        }
    }

    @Test
    void aFailingModelCallFailsEveryRequestInItsBatch() {
        try (MicroBatcher<String, String> b = new MicroBatcher<>("failing", in -> {
            throw new IllegalArgumentException("bad input");
        }, 4, 1000)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.submit("x"));
            assertEquals("bad input", e.getMessage());
        }
    }
}

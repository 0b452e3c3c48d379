package io.heterorag.tuning.training;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.heterorag.model.bundle.ExecutionProviders;
import io.heterorag.model.image.ImageDecoder;
import io.heterorag.model.image.ImageEncoder;
import io.heterorag.model.evaluation.RetrievalMetrics;
import io.heterorag.model.text.TextEncoder;
import io.heterorag.proto.v1.ImagePreprocessing;

/**
 * One ModCLIP job: load the image–report pairs (report-repository JSONL: {id, image_path, report}),
 * embed reports with the frozen MiniLM, train, export the bundle, check the exported ONNX against the
 * trained network, and evaluate image→report recall on the held-out pairs with the exported bundle.
 */
public final class ModClipJob {

    /** Largest difference allowed between an ONNX embedding and the trained network's (unit vectors). */
    static final double PARITY_TOLERANCE = 1e-4;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a finished job produced. */
    public record Outcome(Path bundle, String modelId, Map<String, Double> metrics) {
    }

    private ModClipJob() {
    }

    public static Outcome run(Path trainFile, Path evalFile, ModClipTrainer.Config cfg, Path bundleDir, String name,
            String version, Map<String, String> parameters, Consumer<String> progress) {
        ImagePreprocessing prep = ModClipWeights.preprocessing(cfg.imageSize());
        ExecutionProviders.Choice cpu = ExecutionProviders.choose("cpu", 0);
        try (TextEncoder text = TextEncoder.miniLm(cpu.options())) {
            progress.accept("loading " + trainFile);
            ModClipTrainer.Data train = load(trainFile, prep, text);
            ModClipTrainer.Data eval = load(evalFile, prep, text);
            progress.accept("training on " + train.size() + " pairs, evaluating on " + eval.size());
            ModClipTrainer.Trained trained = ModClipTrainer.train(train, cfg, progress);

            Map<String, String> training = new LinkedHashMap<>(parameters);
            training.put("train_pairs", String.valueOf(train.size()));
            training.put("eval_pairs", String.valueOf(eval.size()));
            training.put("loss", "symmetric InfoNCE, learnable temperature");
            training.put("text_tower", text.name() + " (frozen) + linear projection");
            trained.weights().export(bundleDir, name, version, text.name(), training, Map.of());

            Map<String, Double> metrics = new LinkedHashMap<>();
            try (ImageEncoder exported = ImageEncoder.load(bundleDir, cpu.options())) {
                int plane = cfg.imageSize() * cfg.imageSize();
                float[][] onnx = exported.embedPixels(java.util.Arrays.copyOf(train.pixels(), trained.sampleCount() * plane),
                        trained.sampleCount());
                double diff = maxAbsDiff(onnx, trained.sampleEmbeddings());
                if (diff > PARITY_TOLERANCE) {
                    throw new IllegalStateException("exported ONNX model differs from the trained one by " + diff);
                }
                metrics.put("parity_max_abs_diff", diff);
                metrics.put("first_epoch_loss", (double) trained.epochLosses().get(0));
                metrics.put("final_loss", (double) trained.epochLosses().get(trained.epochLosses().size() - 1));
                metrics.putAll(RetrievalMetrics.recall(exported.embedPixels(eval.pixels(), eval.size()),
                        exported.embedTexts(eval.text()), 1, 5, 10));
            }
            ModClipWeights.updateMetrics(bundleDir, metrics);
            return new Outcome(bundleDir, name + "@" + version, metrics);
        } finally {
            cpu.options().close();
        }
    }

    /** Reads the pairs, decodes and preprocesses each image, embeds each report with MiniLM. */
    static ModClipTrainer.Data load(Path file, ImagePreprocessing prep, TextEncoder text) {
        List<float[]> pixels = new ArrayList<>();
        List<String> reports = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode n = JSON.readTree(line);
                Path image = Path.of(n.path("image_path").asText());
                if (!image.isAbsolute()) {
                    image = file.getParent().resolve(image);
                }
                var decoded = ImageDecoder.decode(Files.readAllBytes(image), "");
                pixels.add(ImageEncoder.pixels(List.of(decoded), prep));
                reports.add(n.path("report").asText());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read pairs from " + file, e);
        }
        int plane = prep.getSize() * prep.getSize();
        float[] all = new float[pixels.size() * plane];
        for (int i = 0; i < pixels.size(); i++) {
            System.arraycopy(pixels.get(i), 0, all, i * plane, plane);
        }
        float[][] emb = new float[reports.size()][];
        for (int i = 0; i < reports.size(); i += 32) {
            float[][] part = text.embed(reports.subList(i, Math.min(reports.size(), i + 32)));
            System.arraycopy(part, 0, emb, i, part.length);
        }
        return new ModClipTrainer.Data(all, emb);
    }

    static double maxAbsDiff(float[][] a, float[][] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                max = Math.max(max, Math.abs(a[i][j] - b[i][j]));
            }
        }
        return max;
    }
}

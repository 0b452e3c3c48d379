package io.heterorag.tuning.executor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.heterorag.tuning.training.JobRunner;

/**
 * What a Job's pod leaves on the shared volume for the tuning service: outcome.json (bundle path,
 * model id, metrics) once it finished, and a progress line while it runs. Written by JobPod, read by
 * KubernetesExecutor; each file is replaced atomically so a reader never sees half of one.
 */
final class JobFiles {

    static final String OUTCOME = "outcome.json";
    static final String PROGRESS = "progress";
    private static final ObjectMapper JSON = new ObjectMapper();

    private JobFiles() {
    }

    static void writeOutcome(Path dir, JobRunner.Outcome o) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("bundle", o.bundle().toAbsolutePath().toString());
        doc.put("model_id", o.modelId());
        doc.put("metrics", o.metrics());
        if (o.promotable() != null) {
            doc.put("promotable", o.promotable()); // a dpo job decides its own promotion
        }
        try {
            replace(dir.resolve(OUTCOME), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(doc));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JobRunner.Outcome readOutcome(Path dir) {
        Path f = dir.resolve(OUTCOME);
        try {
            JsonNode doc = JSON.readTree(f.toFile());
            Map<String, Double> metrics = new LinkedHashMap<>();
            doc.path("metrics").fields().forEachRemaining(e -> metrics.put(e.getKey(), e.getValue().asDouble()));
            String bundle = doc.path("bundle").asText("");
            if (bundle.isEmpty() || doc.path("model_id").asText("").isEmpty()) {
                throw new IllegalStateException(f + " names no bundle or model");
            }
            Boolean promotable = doc.has("promotable") ? doc.get("promotable").asBoolean() : null;
            return new JobRunner.Outcome(Path.of(bundle), doc.path("model_id").asText(), metrics, promotable);
        } catch (IOException e) {
            throw new IllegalStateException("the job's outcome " + f + " cannot be read (is the volume shared?): " + e.getMessage(), e);
        }
    }

    static void writeProgress(Path dir, String progress) {
        try {
            replace(dir.resolve(PROGRESS), progress);
        } catch (IOException e) {
            // progress is advisory: a full or flaky volume must not fail the training
        }
    }

    /** The last progress line, or null when none was written yet. */
    static String readProgress(Path dir) {
        try {
            return Files.readString(dir.resolve(PROGRESS), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return null;
        }
    }

    private static void replace(Path f, String text) throws IOException {
        Files.createDirectories(f.getParent());
        Path tmp = Files.createTempFile(f.getParent(), f.getFileName().toString(), ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}

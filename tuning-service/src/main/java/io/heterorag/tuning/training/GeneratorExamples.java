package io.heterorag.tuning.training;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.heterorag.model.generation.RagPrompt;

/** Training examples of the generator (docs/generator.md, "Training examples"), one JSON object a line. */
public final class GeneratorExamples {

    static final Set<String> TASKS = Set.of("closed_vqa", "open_vqa", "report_generation", "query_generation");
    static final List<String> YES_NO = List.of("yes", "no");

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One example; {@code image} is absolute (a relative image_path is taken from the file's directory). */
    public record Example(String id, String set, Path image, String task, String question, String answer, String answerType,
            List<String> choices, List<String> documents, List<String> reports) {

        /** The method's prompt with all the retrieved evidence; fitting to the context drops some. */
        public RagPrompt prompt() {
            return new RagPrompt(task, question, choices, documents, reports);
        }

        /** The answers a closed question is constrained to: its choices, else yes/no. */
        public List<String> closedChoices() {
            return choices.isEmpty() ? YES_NO : choices;
        }
    }

    private GeneratorExamples() {
    }

    /** The first {@code max} examples of a file (max &lt;= 0: all); a malformed line fails naming its line number. */
    public static List<Example> read(Path file, int max) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read training examples from " + file, e);
        }
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < lines.size() && (max <= 0 || out.size() < max); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            try {
                out.add(parse(JSON.readTree(lines.get(i)), file.toAbsolutePath().getParent()));
            } catch (IOException | IllegalArgumentException e) {
                throw new IllegalArgumentException(file + " line " + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(file + " holds no training examples");
        }
        return out;
    }

    static Example parse(JsonNode n, Path dir) {
        String id = n.path("id").asText("");
        String task = n.path("task").asText("");
        if (!TASKS.contains(task)) {
            throw new IllegalArgumentException("example '" + id + "': task must be one of " + TASKS + ", not '" + task + "'");
        }
        String answer = n.path("answer").asText("").strip();
        if (answer.isEmpty()) {
            throw new IllegalArgumentException("example '" + id + "' has no answer");
        }
        String imagePath = n.path("image_path").asText("");
        if (imagePath.isEmpty()) {
            throw new IllegalArgumentException("example '" + id + "' has no image_path (the VLM is trained on images)");
        }
        Path image = dir.resolve(imagePath);
        if (!Files.isRegularFile(image)) {
            throw new IllegalArgumentException("example '" + id + "': image " + image + " does not exist");
        }
        return new Example(id, n.path("set").asText(""), image, task, n.path("question").asText(""), answer,
                n.path("answer_type").asText(task.equals("closed_vqa") ? "closed" : "open"), strings(n.path("choices")),
                strings(n.path("documents")), strings(n.path("reports")));
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(v -> out.add(v.asText()));
        return out;
    }
}

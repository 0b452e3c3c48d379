package io.heterorag.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.heterorag.model.evaluation.VqaSplits;

/**
 * One medical VQA set in the shared layout (DIR/qa_SPLIT.jsonl + DIR/images/); the set's name is the
 * directory's ("vqa-rad", "slake", "pathvqa"). Split "heldout" is the questions of train whose image
 * {@link VqaSplits#heldOut} picks; "train-kept" is the rest of train.
 */
final class VqaSet {

    static final String HELD_OUT = "heldout";
    static final String TRAIN_KEPT = "train-kept";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One question; answerType "closed" or "open". */
    record Question(String id, String image, String question, String answer, String answerType, String questionType,
            String modality) {
        boolean closed() {
            return answerType.equals("closed");
        }
    }

    final Path dir;
    final String name;

    VqaSet(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("not a directory: " + dir);
        }
        this.dir = dir;
        this.name = dir.toAbsolutePath().normalize().getFileName().toString();
    }

    /** The split's questions in file order; "heldout" and "train-kept" are the two parts of train. */
    List<Question> questions(String split) {
        return switch (split) {
            case HELD_OUT -> read("train").stream().filter(q -> VqaSplits.heldOut(name, q.image())).toList();
            case TRAIN_KEPT -> read("train").stream().filter(q -> !VqaSplits.heldOut(name, q.image())).toList();
            default -> read(split);
        };
    }

    /** Whether the set has a file of this split (validate exists only for SLAKE). */
    boolean has(String split) {
        return Files.exists(dir.resolve("qa_" + split + ".jsonl"));
    }

    /**
     * What a model evaluated on {@code split} may learn from: all of train for a split given as a file
     * of its own (SLAKE validate), otherwise train without the held-out images.
     */
    List<Question> trainingFor(String split) {
        return split.equals(HELD_OUT) || split.equals("train") || split.equals(TRAIN_KEPT) ? questions(TRAIN_KEPT) : questions("train");
    }

    Path imagePath(Question q) {
        return dir.resolve("images").resolve(q.image());
    }

    private List<Question> read(String split) {
        Path file = dir.resolve("qa_" + split + ".jsonl");
        if (!Files.exists(file)) {
            throw new IllegalArgumentException("missing " + file + " (splits: files qa_NAME.jsonl, or " + HELD_OUT + ")");
        }
        List<Question> out = new ArrayList<>();
        try {
            int lineNo = 0;
            for (String line : Files.readAllLines(file)) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode n = JSON.readTree(line);
                String image = n.path("image").asText("");
                if (image.isEmpty() || n.path("question").asText("").isEmpty()) {
                    throw new IllegalArgumentException(file + " line " + lineNo + ": needs image and question");
                }
                if (n.path("answer").asText("").isBlank()) {
                    continue; // nothing to score or learn (one SLAKE train question, slake-1622, has an empty answer)
                }
                String answer = n.path("answer").asText();
                out.add(new Question(n.path("id").asText(name + ":" + lineNo), image, n.path("question").asText(), answer,
                        n.path("answer_type").asText("open"), n.path("question_type").asText(""),
                        n.path("modality").asText("radiology")));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        return out;
    }
}

package io.heterorag.tuning.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import io.heterorag.model.generation.RagPrompt;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training-example JSONL (docs/generator.md): fields, defaults, and each refusal with its line. */
class GeneratorExamplesTest {

    @TempDir
    Path dir;

    @BeforeEach
    void images() throws IOException {
        Files.createDirectories(dir.resolve("img"));
        Files.write(dir.resolve("img/a.jpg"), new byte[] {1});
    }

    Path file(String... lines) {
        try {
            return Files.write(dir.resolve("examples.jsonl"), List.of(lines));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static final String CLOSED = """
            {"id":"c1","set":"train","image_path":"img/a.jpg","task":"closed_vqa","question":"Is it?","answer":" yes ",\
            "documents":["d1","d2"],"reports":["r1"]}""";
    static final String OPEN = """
            {"id":"o1","image_path":"img/a.jpg","task":"open_vqa","question":"What?","answer":"a mass","answer_type":"other",\
            "choices":["x"]}""";

    @Test
    void readsEveryFieldWithItsDefaultsAndSkipsBlankLines() {
        List<GeneratorExamples.Example> all = GeneratorExamples.read(file(CLOSED, "", "  ", OPEN), 0);
        assertEquals(2, all.size());
        GeneratorExamples.Example c = all.get(0);
        assertEquals(new GeneratorExamples.Example("c1", "train", dir.resolve("img/a.jpg"), "closed_vqa", "Is it?", "yes", "closed",
                List.of(), List.of("d1", "d2"), List.of("r1")), c);
        assertTrue(c.image().isAbsolute());
        assertEquals(List.of("yes", "no"), c.closedChoices());
        assertEquals(new RagPrompt("closed_vqa", "Is it?", List.of(), List.of("d1", "d2"), List.of("r1")), c.prompt());
        GeneratorExamples.Example o = all.get(1);
        assertEquals("", o.set());
        assertEquals("other", o.answerType());
        assertEquals(List.of("x"), o.closedChoices());
        assertEquals(List.of(), o.documents());

        String report = "{\"id\":\"g1\",\"image_path\":\"img/a.jpg\",\"task\":\"report_generation\",\"answer\":\"Findings.\"}";
        GeneratorExamples.Example g = GeneratorExamples.read(file(report), 0).get(0);
        assertEquals("open", g.answerType(), "not closed: open by default");
        assertEquals("", g.question());
    }

    @Test
    void maxKeepsTheFirstExamples() {
        Path f = file(CLOSED, OPEN, CLOSED);
        assertEquals(List.of("c1"), GeneratorExamples.read(f, 1).stream().map(GeneratorExamples.Example::id).toList());
        assertEquals(2, GeneratorExamples.read(f, 2).size());
        assertEquals(3, GeneratorExamples.read(f, -1).size());
        assertEquals(3, GeneratorExamples.read(f, 3).size());
    }

    @Test
    void eachRefusalNamesTheFileLineAndReason() {
        assertEquals(file(OPEN, "{\"id\":\"x\",\"task\":\"caption\",\"answer\":\"a\",\"image_path\":\"img/a.jpg\"}") + " line 2: example 'x': "
                + "task must be one of " + GeneratorExamples.TASKS + ", not 'caption'", message(0));
        assertEquals(file("{\"id\":\"x\",\"task\":\"open_vqa\",\"answer\":\"  \",\"image_path\":\"img/a.jpg\"}") + " line 1: example 'x' has no answer",
                message(0));
        assertEquals(file("{\"id\":\"x\",\"task\":\"open_vqa\",\"answer\":\"a\"}") + " line 1: example 'x' has no image_path "
                + "(the VLM is trained on images)", message(0));
        assertEquals(file("{\"id\":\"x\",\"task\":\"open_vqa\",\"answer\":\"a\",\"image_path\":\"img/b.jpg\"}") + " line 1: example 'x': image "
                + dir.resolve("img/b.jpg") + " does not exist", message(0));
        assertEquals(file("{\"id\":\"x\",\"task\":\"open_vqa\",\"answer\":\"a\",\"image_path\":\"img\"}") + " line 1: example 'x': image "
                + dir.resolve("img") + " does not exist", message(0), "a directory is not an image");
        assertTrue(message(file(CLOSED, "{not json")).startsWith(dir.resolve("examples.jsonl") + " line 2: "));
        assertEquals(file("", " ") + " holds no training examples", message(0));
        // a line past max is not read
        assertEquals(1, GeneratorExamples.read(file(CLOSED, "{not json"), 1).size());
        UncheckedIOException missing = assertThrows(UncheckedIOException.class, () -> GeneratorExamples.read(dir.resolve("none.jsonl"), 0));
        assertEquals("cannot read training examples from " + dir.resolve("none.jsonl"), missing.getMessage());
    }

    String message(int max) {
        return assertThrows(IllegalArgumentException.class, () -> GeneratorExamples.read(dir.resolve("examples.jsonl"), max)).getMessage();
    }

    String message(Path f) {
        return assertThrows(IllegalArgumentException.class, () -> GeneratorExamples.read(f, 0)).getMessage();
    }
}

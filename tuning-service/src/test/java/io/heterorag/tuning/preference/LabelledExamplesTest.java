package io.heterorag.tuning.preference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import io.heterorag.tuning.preference.LabelledExamples.Labelled;
import io.heterorag.tuning.training.GeneratorExamples;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Evidence ids beside the texts, positional ids when a file has none (or not one per text). */
class LabelledExamplesTest {

    @TempDir
    Path dir;

    static String line(String id, String extra) {
        return "{\"id\":\"" + id + "\",\"image_path\":\"a.png\",\"task\":\"open_vqa\",\"answer\":\"x\",\"documents\":[\"d one\",\"d two\"],"
                + "\"reports\":[\"r one\"]" + extra + "}";
    }

    @Test
    void idsFromTheFileOrByPositionInTheSameOrderAsTheTexts() throws IOException {
        Files.write(dir.resolve("a.png"), new byte[] {1});
        Path file = Files.write(dir.resolve("ex.jsonl"), List.of(
                line("e2", ""),
                "  ", // blank lines are skipped by both readers, so the ids stay with their example
                line("e1", ",\"document_ids\":[\"D7\",\"D3\"],\"report_ids\":[\"R5\"]"),
                line("e3", ",\"document_ids\":[\"D1\"],\"report_ids\":[\"R1\",\"R2\"]"),
                line("e4", "")));
        List<Labelled> all = LabelledExamples.read(file, 0);
        assertEquals(4, all.size());
        assertEquals(List.of("e2#document1", "e2#document2"), all.get(0).documentIds(), "no ids: by position from 1");
        assertEquals(List.of("e2#report1"), all.get(0).reportIds());
        assertEquals(List.of("D7", "D3"), all.get(1).documentIds());
        assertEquals(List.of("R5"), all.get(1).reportIds());
        assertEquals(List.of("e3#document1", "e3#document2"), all.get(2).documentIds(), "one id for two documents: by position");
        assertEquals(List.of("e3#report1"), all.get(2).reportIds(), "two ids for one report: by position");
        assertEquals("e1", all.get(1).example().id());
        assertEquals(List.of("d one", "d two"), all.get(1).example().documents());

        assertEquals(List.of("e2", "e1"), LabelledExamples.read(file, 2).stream().map(l -> l.example().id()).toList());
    }

    @Test
    void anExampleNeedsOneIdPerText() {
        GeneratorExamples.Example e = new GeneratorExamples.Example("e", "", dir, "open_vqa", "q", "a", "open", List.of(),
                List.of("d1", "d2"), List.of("r1"));
        new Labelled(e, List.of("a", "b"), List.of("c"));
        assertEquals("example 'e': 1 document ids for 2 documents, 1 report ids for 1 reports",
                assertThrows(IllegalArgumentException.class, () -> new Labelled(e, List.of("a"), List.of("c"))).getMessage());
        assertEquals("example 'e': 2 document ids for 2 documents, 0 report ids for 1 reports",
                assertThrows(IllegalArgumentException.class, () -> new Labelled(e, List.of("a", "b"), List.of())).getMessage());
    }
}

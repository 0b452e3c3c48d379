package io.heterorag.model.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class VqaSplitsTest {

    static final Path VQA = Path.of(System.getProperty("vqa.dir", "../../shared/data/vqa"));

    @Test
    void anImageIsAlwaysOnTheSameSideAndTheSetIsPartOfTheKey() {
        List<Boolean> first = IntStream.range(0, 200).mapToObj(i -> VqaSplits.heldOut("vqa-rad", "synpic" + i + ".jpg")).toList();
        List<Boolean> again = IntStream.range(0, 200).mapToObj(i -> VqaSplits.heldOut("vqa-rad", "synpic" + i + ".jpg")).toList();
        assertEquals(first, again);
        List<Boolean> otherSet = IntStream.range(0, 200).mapToObj(i -> VqaSplits.heldOut("pathvqa", "synpic" + i + ".jpg")).toList();
        assertNotEquals(first, otherSet);
    }

    @Test
    void holdsOutAboutFifteenPercent() {
        long held = IntStream.range(0, 20_000).filter(i -> VqaSplits.heldOut("pathvqa", "path-" + i + ".jpg")).count();
        // binomial(20000, 0.15): mean 3000, sd 50
        assertTrue(held > 2800 && held < 3200, "held out " + held);
    }

    @Test
    void vqaRadHoldsOut43Of314Images() throws IOException {
        Path qa = VQA.resolve("vqa-rad/qa_train.jsonl");
        Assumptions.assumeTrue(Files.exists(qa), "VQA-RAD not at " + qa);
        Set<String> images = new TreeSet<>();
        for (String line : Files.readAllLines(qa)) {
            int i = line.indexOf("\"image\": \"");
            images.add(line.substring(i + 10, line.indexOf('"', i + 10)));
        }
        long held = images.stream().filter(img -> VqaSplits.heldOut("vqa-rad", img)).count();
        // fixed by the hash (a changed count would move images between training and evaluation):
        // 43 / 314 = 13.7 %, within two binomial sd (6.3 images) of 15 %; cross-checked with Python's hashlib
        assertEquals(314, images.size());
        assertEquals(43, held);
    }
}

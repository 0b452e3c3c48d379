package io.heterorag.model.generation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bundle JSON readers: values, fallbacks, an int or a list of ints, and the refusals. */
class BundleJsonTest {

    static final JsonObject O = JsonParser.parseString(
            "{\"n\":3,\"x\":0.25,\"b\":true,\"f\":[0.5,-1.5],\"eos\":[3,7],\"one\":2,\"nil\":null,\"empty\":[]}").getAsJsonObject();

    @Test
    void valuesAndFallbacks() {
        assertEquals(3, BundleJson.integer(O, "n", "c.json"));
        assertEquals(3, BundleJson.integer(O, "n", 9));
        assertEquals(9, BundleJson.integer(O, "nil", 9), "null counts as absent");
        assertEquals(0.25, BundleJson.number(O, "x", 1));
        assertEquals(1, BundleJson.number(O, "missing", 1));
        assertTrue(BundleJson.bool(O, "b", false));
        assertFalse(BundleJson.bool(O, "missing", false));
        assertArrayEquals(new float[] {0.5f, -1.5f}, BundleJson.floats(O, "f", null));
        float[] fallback = {1};
        assertSame(fallback, BundleJson.floats(O, "missing", fallback));
        assertArrayEquals(new float[0], BundleJson.floats(O, "empty", fallback));
        assertArrayEquals(new int[] {3, 7}, BundleJson.ints(O, "eos"));
        assertArrayEquals(new int[] {2}, BundleJson.ints(O, "one"));
        assertArrayEquals(new int[0], BundleJson.ints(O, "nil"));
        assertArrayEquals(new int[0], BundleJson.ints(O, "empty"));
        assertFalse(BundleJson.has(null, "n"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BundleJson.integer(O, "missing", "c.json"));
        assertEquals("c.json has no missing", e.getMessage());
    }

    @Test
    void readRefusesWhatIsNotAJsonObject(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("a.json"), "{\"k\":1}");
        Files.writeString(dir.resolve("b.json"), "[1]");
        Files.writeString(dir.resolve("c.json"), "{oops");
        assertEquals(1, BundleJson.read(dir, "a.json").get("k").getAsInt());
        assertEquals("generator bundle " + dir + ": b.json is not a JSON object",
                assertThrows(IllegalArgumentException.class, () -> BundleJson.read(dir, "b.json")).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BundleJson.read(dir, "c.json")).getMessage()
                .startsWith("generator bundle " + dir + ": c.json is not valid JSON: "));
        assertEquals("generator bundle " + dir + ": cannot read d.json",
                assertThrows(java.io.UncheckedIOException.class, () -> BundleJson.read(dir, "d.json")).getMessage());
    }
}

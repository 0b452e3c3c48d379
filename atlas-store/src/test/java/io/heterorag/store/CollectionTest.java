package io.heterorag.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CollectionTest {

    @TempDir
    Path dir;

    static Collection.Entry entry(String id, String group, String hash, String text, float... v) {
        return new Collection.Entry(id, group, hash, "", text, v, null, Map.of("k", id));
    }

    @Test
    void entriesSurviveAReopenAndUpsertReplacesAGroup() {
        try (Collection c = new Collection("t", dir)) {
            c.upsert(List.of(entry("d1#0", "d1", "h1", "alpha", 1, 0), entry("d1#1", "d1", "h1", "beta", 0, 1),
                    entry("d2#0", "d2", "h2", "gamma", 0.6f, 0.8f)));
            // d1 shrinks to one chunk: its old chunks go
            c.upsert(List.of(entry("d1#0", "d1", "h1b", "alpha two", 1, 0)));
            assertEquals(2, c.count());
        }
        try (Collection c = new Collection("t", dir)) {
            assertEquals(2, c.count());
            assertEquals("h1b", c.storedHash("d1"));
            assertNull(c.storedHash("d3"));
            List<Collection.Hit> near = c.nearest(new float[] {0.6f, 0.8f}, 2);
            assertEquals("d2#0", near.get(0).id());
            assertEquals(1.0, near.get(0).score(), 1e-5);
            assertEquals("d2#0", near.get(0).metadata().get("k"));
            assertEquals("d1#0", c.keyword("two", 5).get(0).id());
        }
    }

    @Test
    void hybridFusesDenseAndKeywordRanks() {
        try (Collection c = new Collection("t", dir)) {
            c.upsert(List.of(entry("a", "a", "h", "hamartoma popcorn calcification", 0, 1),
                    entry("b", "b", "h", "unrelated words", 1, 0),
                    entry("c", "c", "h", "other text", 0.9f, 0.43f)));
            // dense alone prefers b, keyword alone finds only a; a is first in one list and last in the other
            List<Collection.Hit> hits = c.hybrid(new float[] {1, 0}, "popcorn hamartoma", 3, 10, 1.0);
            assertEquals(3, hits.size());
            assertEquals(1.0 / 61 + 1.0 / 63, hits.get(0).score(), 1e-6);
            assertEquals("a", hits.get(0).id());
        }
    }
}

package io.heterorag.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link VectorCollection} backend must have; each backend's test extends this.
 * {@link #open} opens the named collection as a fresh process would, so opening twice shows persistence.
 */
abstract class VectorCollectionContract {

    abstract VectorCollection open(String name);

    /** The aliases of the store {@link #open} opens collections in. */
    abstract CollectionAliases aliases();

    static VectorCollection.Entry entry(String id, String group, String hash, String text, Map<String, String> meta, float... v) {
        return new VectorCollection.Entry(id, group, hash, "", text, v, null, meta);
    }

    static VectorCollection.Entry entry(String id, String group, String hash, String text, float... v) {
        return entry(id, group, hash, text, Map.of("k", id), v);
    }

    @Test
    void entriesSurviveAReopenAndUpsertReplacesAGroup() {
        try (VectorCollection c = open("reopen")) {
            c.upsert(List.of(entry("d1#0", "d1", "h1", "alpha", 1, 0), entry("d1#1", "d1", "h1", "beta", 0, 1),
                    entry("d2#0", "d2", "h2", "gamma", 0.6f, 0.8f)));
            // d1 shrinks to one chunk: its old chunks go
            c.upsert(List.of(entry("d1#0", "d1", "h1b", "alpha two", 1, 0)));
            assertEquals(2, c.count());
        }
        try (VectorCollection c = open("reopen")) {
            assertEquals(2, c.count());
            assertEquals("h1b", c.storedHash("d1"));
            assertNull(c.storedHash("d3"));
            assertEquals(Map.of("d1", "h1b", "d2", "h2"), c.storedHashes(List.of("d1", "d2", "d3")));
            List<VectorCollection.Hit> near = c.nearest(new float[] {0.6f, 0.8f}, 2);
            assertEquals("d2#0", near.get(0).id());
            assertEquals(1.0, near.get(0).score(), 1e-5);
            assertEquals("d2#0", near.get(0).metadata().get("k"));
            assertEquals("d1#0", c.keyword("two", 5).get(0).id());
            assertEquals(List.of(), c.keyword("beta", 5), "the replaced chunk is gone from the keyword index too");
        }
    }

    @Test
    void anEmptyCollectionAnswersEmpty() {
        try (VectorCollection c = open("empty")) {
            assertEquals(0, c.count());
            assertEquals(List.of(), c.nearest(new float[] {1, 0}, 3));
            assertEquals(List.of(), c.keyword("anything", 3));
            assertNull(c.storedHash("x"));
        }
    }

    @Test
    void nearestRanksByCosineLikeExactSearch() {
        Random rnd = new Random(7);
        List<VectorCollection.Entry> entries = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            float[] v = new float[16];
            for (int d = 0; d < v.length; d++) {
                v[d] = (float) rnd.nextGaussian();
            }
            entries.add(entry("e" + i, "e" + i, "h", "text " + i, unit(v)));
        }
        try (VectorCollection c = open("cosine")) {
            c.upsert(entries);
            c.optimize();
            float[] q = entries.get(0).vector().clone();
            q[0] += 0.5f;
            float[] query = unit(q);
            List<String> exact = entries.stream()
                    .sorted(Comparator.comparingDouble((VectorCollection.Entry e) -> -dot(query, e.vector())))
                    .limit(5).map(VectorCollection.Entry::id).toList();
            List<VectorCollection.Hit> hits = c.nearest(query, 5, 100, Map.of());
            assertEquals(exact, hits.stream().map(VectorCollection.Hit::id).toList());
            assertEquals(dot(query, entries.get(Integer.parseInt(hits.get(0).id().substring(1))).vector()), hits.get(0).score(), 1e-4);
        }
    }

    @Test
    void filtersRestrictBothSearches() {
        try (VectorCollection c = open("filters")) {
            c.upsert(List.of(entry("a", "a", "h", "pneumothorax chest", Map.of("source", "medpix", "kind", "report"), 1, 0),
                    entry("b", "b", "h", "pneumothorax lung", Map.of("source", "roco", "kind", "report"), 0.9f, 0.44f),
                    entry("c", "c", "h", "pneumothorax", Map.of("source", "roco", "kind", "term"), 0, 1)));
            assertEquals(List.of("b", "c"), ids(c.nearest(new float[] {1, 0}, 5, 10, Map.of("source", "roco"))));
            assertEquals(List.of("b"), ids(c.nearest(new float[] {1, 0}, 5, 10, Map.of("source", "roco", "kind", "report"))));
            assertEquals(List.of("a"), ids(c.keyword("pneumothorax", 5, Map.of("source", "medpix"))));
            assertEquals(List.of(), c.keyword("pneumothorax", 5, Map.of("source", "none")));
            assertThrows(IllegalArgumentException.class, () -> c.nearest(new float[] {1, 0}, 5, 10, Map.of("text", "x")));
        }
    }

    @Test
    void keywordSearchStemsAndWeighsRareTerms() {
        try (VectorCollection c = open("bm25")) {
            List<VectorCollection.Entry> entries = new ArrayList<>();
            entries.add(entry("frac", "frac", "h", "Fractures of the femoral neck in the elderly", 1, 0));
            IntStream.range(0, 8).forEach(i -> entries.add(entry("n" + i, "n" + i, "h", "the elderly patient with a normal study " + i, 0, 1)));
            c.upsert(entries);
            assertEquals("frac", c.keyword("fracture elderly", 3).get(0).id(), "stemmed and rarer term ranks first");
            assertEquals(3, c.keyword("elderly", 3).size());
            assertEquals(List.of(), c.keyword("the of with", 3), "stop words alone match nothing");
        }
    }

    @Test
    void forEachYieldsEveryEntryWithItsBlobAndMetadata() {
        try (VectorCollection c = open("scan")) {
            List<VectorCollection.Entry> entries = new ArrayList<>();
            for (int i = 0; i < 600; i++) { // more than one scroll page
                entries.add(new VectorCollection.Entry("r" + i, "r" + i, "h" + i, "t", "report " + i, new float[] {1, i},
                        new byte[] {(byte) i, 1, 2}, Map.of("source", "s" + (i % 3))));
            }
            c.upsert(entries);
            Map<String, VectorCollection.Entry> seen = new HashMap<>();
            c.forEach(e -> seen.put(e.id(), e));
            assertEquals(600, seen.size());
            VectorCollection.Entry e = seen.get("r257");
            assertEquals("report 257", e.text());
            assertEquals("h257", e.hash());
            assertEquals("s2", e.metadata().get("source"));
            assertEquals((byte) 257, e.blob()[0]);
        }
    }

    @Test
    void dropDeletesTheCollection() {
        VectorCollection c = open("dropped");
        c.upsert(List.of(entry("a", "a", "h", "x", 1, 0)));
        c.drop();
        try (VectorCollection again = open("dropped")) {
            assertEquals(0, again.count());
            assertTrue(again.isOpen());
        }
    }

    @Test
    void titlesAreStoredReturnedAndSearched() {
        try (VectorCollection c = open("titles")) {
            c.upsert(List.of(
                    new VectorCollection.Entry("t1", "t1", "h", "Tension pneumothorax", "Air in the pleural space",
                            new float[] {1, 0}, null, Map.of()),
                    new VectorCollection.Entry("t2", "t2", "h", null, "Fluid in the pleural space", new float[] {0, 1}, null,
                            Map.of())));
            List<VectorCollection.Hit> hits = c.keyword("pneumothorax", 5);
            assertEquals(List.of("t1"), ids(hits), "a word only in the title finds the entry");
            assertEquals("Tension pneumothorax", hits.get(0).title());
            assertEquals("Air in the pleural space", hits.get(0).text());
            assertEquals("Tension pneumothorax", c.nearest(new float[] {1, 0}, 1).get(0).title());
            assertEquals("", c.nearest(new float[] {0, 1}, 1).get(0).title(), "no title reads back as empty");
            assertEquals(List.of(), c.keyword("null", 5), "a missing title is not the word null");
            Map<String, String> titles = new HashMap<>();
            c.forEach(e -> titles.put(e.id(), e.title()));
            assertEquals(Map.of("t1", "Tension pneumothorax", "t2", ""), titles);
        }
    }

    @Test
    void forEachSkipsEntriesReplacedInTheirGroup() {
        // re-embedding walks forEach: a replaced chunk it yielded would come back to life
        try (VectorCollection c = open("scan-replaced")) {
            // 20 entries, 2 of them replaced by 1: few enough deletions that the embedded index keeps them
            // as deleted documents in the segment instead of merging them away
            List<VectorCollection.Entry> first = new ArrayList<>(List.of(entry("d1#0", "d1", "h1", "alpha", 1, 0),
                    entry("d1#1", "d1", "h1", "beta", 0, 1), entry("d2#0", "d2", "h2", "gamma", 1, 0)));
            IntStream.range(0, 17).forEach(i -> first.add(entry("f" + i, "f" + i, "h", "filler", 0, 1)));
            c.upsert(first);
            c.upsert(List.of(entry("d1#0", "d1", "h1b", "alpha two", 1, 0)));
            Map<String, VectorCollection.Entry> seen = new HashMap<>();
            c.forEach(e -> seen.put(e.id(), e));
            assertEquals(19, seen.size());
            assertTrue(seen.keySet().containsAll(List.of("d1#0", "d2#0", "f16")));
            assertFalse(seen.containsKey("d1#1"), "the replaced chunk is not yielded");
            VectorCollection.Entry d1 = seen.get("d1#0");
            assertEquals("alpha two", d1.text());
            assertEquals("h1b", d1.hash());
            assertEquals("d1", d1.group());
            assertEquals(Map.of("k", "d1#0"), d1.metadata());
            assertNull(d1.blob(), "no blob stored, none read back");
            assertNull(d1.vector(), "forEach does not read vectors");
        }
    }

    @Test
    void aCollectionKnowsItsNameAndIsNotOpenOnceClosed() {
        VectorCollection c = open("named");
        assertEquals("named", c.name());
        assertEquals(Map.of(), c.storedHashes(List.of()));
        assertTrue(c.isOpen());
        c.close();
        assertFalse(c.isOpen());
        c.close(); // a second close is harmless
        assertFalse(c.isOpen());
    }

    @Test
    void anAliasPointsAtACollectionAndIsRepointedAtomically() throws Exception {
        CollectionAliases a = aliases();
        VectorCollection one = open("alias-one");
        one.upsert(List.of(entry("x", "x", "h", "text", 1, 0)));
        VectorCollection two = open("alias-two");
        two.create(2); // empty, and yet an alias can point at it
        assertTrue(a.exists("alias-two"));
        assertFalse(a.exists("alias-none"));
        assertEquals(java.util.Optional.empty(), a.target("serving--alias"));
        assertThrows(IllegalStateException.class, () -> a.point("serving--alias", "alias-none"), "only existing collections");
        assertThrows(IllegalArgumentException.class, () -> a.point("serving.alias", "alias-one"), "names both backends keep");

        a.point("serving--alias", "alias-one");
        a.point("pin--p1--alias", "alias-one");
        assertEquals(java.util.Optional.of("alias-one"), a.target("serving--alias"));
        // a reader polling while the alias flips back and forth always finds one of the two, never none
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.Set<String> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
        Thread reader = new Thread(() -> {
            while (!stop.get()) {
                seen.add(a.target("serving--alias").orElse("NONE"));
            }
        });
        reader.start();
        for (int i = 0; i < 40; i++) {
            a.point("serving--alias", i % 2 == 0 ? "alias-two" : "alias-one");
        }
        stop.set(true);
        reader.join();
        assertFalse(seen.contains("NONE"), seen.toString());
        assertEquals(java.util.Optional.of("alias-one"), a.target("serving--alias"));
        Map<String, String> all = a.all();
        assertEquals("alias-one", all.get("serving--alias"));
        assertEquals("alias-one", all.get("pin--p1--alias"));

        a.remove("pin--p1--alias");
        a.remove("pin--p1--alias"); // removing a missing alias is harmless
        assertFalse(a.all().containsKey("pin--p1--alias"));
        a.remove("serving--alias");
        assertEquals(java.util.Optional.empty(), a.target("serving--alias"));
        one.close();
        two.close();
    }

    static List<String> ids(List<VectorCollection.Hit> hits) {
        return hits.stream().map(VectorCollection.Hit::id).toList();
    }

    static float[] unit(float[] v) {
        float n = (float) Math.sqrt(dot(v, v));
        for (int i = 0; i < v.length; i++) {
            v[i] /= n;
        }
        return v;
    }

    static float dot(float[] a, float[] b) {
        float s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }
}

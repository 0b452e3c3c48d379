package io.heterorag.retrieval.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Random;

import io.heterorag.model.image.PerceptualHash;
import org.junit.jupiter.api.Test;

class NearDuplicateIndexTest {

    @Test
    void findsEveryHashWithinTheDistanceLikeAScanDoes() {
        Random rnd = new Random(3);
        long[] stored = new long[2000];
        NearDuplicateIndex index = new NearDuplicateIndex(3);
        for (int i = 0; i < stored.length; i++) {
            stored[i] = rnd.nextLong();
            index.add("s" + i, stored[i]);
        }
        for (int q = 0; q < 500; q++) {
            int target = rnd.nextInt(stored.length);
            long h = stored[target];
            for (int flips = rnd.nextInt(6); flips > 0; flips--) {
                h ^= 1L << rnd.nextInt(64);
            }
            int scanBest = Integer.MAX_VALUE;
            for (long s : stored) {
                scanBest = Math.min(scanBest, PerceptualHash.distance(s, h));
            }
            NearDuplicateIndex.Match m = index.find("query", h);
            if (scanBest <= 3) {
                assertEquals(scanBest, m.distance());
            } else {
                assertNull(m);
            }
        }
    }

    @Test
    void anEntryIsNotItsOwnDuplicateAndReplacedHashesGoStale() {
        NearDuplicateIndex index = new NearDuplicateIndex(2);
        index.add("a", 0xF0F0L);
        assertNull(index.find("a", 0xF0F0L));
        assertEquals("a", index.find("b", 0xF0F1L).id());
        index.add("a", ~0xF0F0L); // a re-ingested with another image
        assertNull(index.find("b", 0xF0F1L));
    }
}

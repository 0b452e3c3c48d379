package io.heterorag.retrieval.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

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

    @Test
    void theDistanceIsBetweenZeroAndSevenBitsAndIsInclusive() {
        assertThrows(IllegalArgumentException.class, () -> new NearDuplicateIndex(-1));
        assertThrows(IllegalArgumentException.class, () -> new NearDuplicateIndex(8));
        // distance 0: one band of all 64 bits, only equal hashes match
        NearDuplicateIndex exact = new NearDuplicateIndex(0);
        exact.add("a", 0x8000_0000_0000_0001L);
        assertEquals(new NearDuplicateIndex.Match("a", 0), exact.find("b", 0x8000_0000_0000_0001L));
        assertNull(exact.find("b", 0x8000_0000_0000_0000L));
        // distance 7: 8 bands; 7 flipped bits match, 8 do not
        NearDuplicateIndex seven = new NearDuplicateIndex(7);
        seven.add("a", 0L);
        assertEquals(new NearDuplicateIndex.Match("a", 7), seven.find("b", 0x7FL));
        assertNull(seven.find("b", 0xFFL));
        assertEquals(new NearDuplicateIndex.Match("a", 7), seven.find("b", 0xFE00_0000_0000_0000L), "bits of the last band");
        assertEquals(1, seven.size());
    }

    @Test
    void theClosestOfSeveralMatchesWins() {
        NearDuplicateIndex index = new NearDuplicateIndex(3);
        index.add("far", 0b111L);
        index.add("near", 0b1L);
        index.add("middle", 0b11L);
        assertEquals(new NearDuplicateIndex.Match("near", 1), index.find("q", 0L));
        assertEquals(3, index.size());
        index.add("near", 0b1L); // re-ingested unchanged: still one entry
        assertEquals(3, index.size());
    }
}

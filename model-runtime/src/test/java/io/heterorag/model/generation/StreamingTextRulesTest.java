package io.heterorag.model.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Function;

import org.junit.jupiter.api.Test;

/**
 * StreamingText's rules with a decoder that maps whole token sequences to fixed texts (so a test can
 * also make it rewrite earlier text, as a decoder's clean-up may): what each update releases exactly.
 */
class StreamingTextRulesTest {

    /** Decodes by the length of the sequence: the i-th text for i + 1 tokens. */
    static Function<int[], String> texts(String... byLength) {
        return ids -> byLength[ids.length - 1];
    }

    static int[] n(int count) {
        return new int[count];
    }

    @Test
    void theUpdateThatMeetsAStopStringReleasesTheTextBeforeIt() {
        StreamingText s = new StreamingText(texts("ab", "abcdENDx"), List.of("END"));
        assertEquals("ab", s.update(n(1)));
        assertEquals("cd", s.update(n(2)));
        assertTrue(s.stopped());
        assertEquals("abcd", s.text());
        assertEquals("", s.update(n(2)), "nothing after a stop");
        assertEquals("", s.flush());
    }

    @Test
    void aStopStringAtTheVeryStartLeavesNoText() {
        StreamingText s = new StreamingText(texts("ENDabc"), List.of("END"));
        assertEquals("", s.update(n(1)));
        assertTrue(s.stopped());
        assertEquals("", s.text());
        // the first stop string of the list found at 0 is not replaced by a later one found further on
        StreamingText two = new StreamingText(texts("xyz"), List.of("x", "y"));
        two.update(n(1));
        assertEquals("", two.text());
    }

    @Test
    void aHeldBackTailIsReleasedByFlush() {
        StreamingText s = new StreamingText(texts("abEN"), List.of("END"));
        assertEquals("ab", s.update(n(1)));
        assertEquals("EN", s.flush());
        assertEquals("", s.flush());
        assertFalse(s.stopped());
    }

    @Test
    void anEmptyStopStringIsIgnored() {
        StreamingText s = new StreamingText(texts("abc"), List.of("", "Z"));
        assertEquals("abc", s.update(n(1)));
        assertFalse(s.stopped());
    }

    @Test
    void aLoneHighSurrogateWaitsForItsPair() {
        StreamingText s = new StreamingText(texts("ab\uD83D", "ab\uD83D\uDE00c"), List.of());
        assertEquals("ab", s.update(n(1)));
        assertEquals("\uD83D\uDE00c", s.update(n(2)));
    }

    @Test
    void releasedTextStaysReleasedWhenTheDecoderRewritesIt() {
        // "aXYq" was released; the rewrite "aXYZ" holds the stop string "XYZ" from index 1: the text keeps what was released
        StreamingText s = new StreamingText(texts("aXYq", "aXYZ"), List.of("XYZ"));
        assertEquals("aXYq", s.update(n(1)));
        assertEquals("", s.update(n(2)));
        assertTrue(s.stopped());
        assertEquals("aXY", s.text());
        // a rewrite of released text without a stop releases nothing until the text again extends what was released
        StreamingText r = new StreamingText(texts("abc", "abX", "abcd"), List.of());
        assertEquals("abc", r.update(n(1)));
        assertEquals("", r.update(n(2)));
        assertEquals("d", r.update(n(3)));
    }
}

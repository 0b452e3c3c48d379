package io.heterorag.model.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import org.junit.jupiter.api.Test;

class StreamingTextTest {

    /** A byte-level "tokenizer": token i is byte i, decoded as UTF-8 (a partial character becomes U+FFFD, like byte-level BPE). */
    static final Function<int[], String> BYTES = ids -> {
        byte[] b = new byte[ids.length];
        for (int i = 0; i < ids.length; i++) {
            b[i] = (byte) ids[i];
        }
        return new String(b, StandardCharsets.UTF_8);
    };

    static int[] bytes(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            ids[i] = b[i] & 0xff;
        }
        return ids;
    }

    /** Feeds the tokens one at a time; returns the chunks released (the last one is the flush). */
    static List<String> stream(StreamingText s, int[] ids) {
        List<String> chunks = new ArrayList<>();
        for (int n = 1; n <= ids.length && !s.stopped(); n++) {
            chunks.add(s.update(java.util.Arrays.copyOf(ids, n)));
        }
        chunks.add(s.flush());
        return chunks;
    }

    @Test
    void multiByteCharactersSplitAcrossTokensAreReleasedWhole() {
        String text = "µm ≥ 5 😀 ok";
        StreamingText s = new StreamingText(BYTES, List.of());
        List<String> chunks = stream(s, bytes(text));
        assertEquals(text, String.join("", chunks));
        for (String c : chunks) {
            assertFalse(c.contains("\uFFFD"), "a chunk held a partial character: " + c);
            assertFalse(!c.isEmpty() && Character.isLowSurrogate(c.charAt(0)), "a chunk split a surrogate pair");
        }
        // the 4 bytes of the emoji give one chunk with the whole character, after three empty updates
        assertTrue(chunks.contains("😀"));
        assertEquals(text, s.text());
    }

    @Test
    void aStopStringEndsTheTextBeforeItAndItsPrefixIsHeldBack() {
        StreamingText s = new StreamingText(BYTES, List.of("\nQuestion:"));
        List<String> chunks = stream(s, bytes("no effusion\nQues" + "tion: more"));
        assertTrue(s.stopped());
        assertEquals("no effusion", s.text());
        assertEquals("no effusion", String.join("", chunks));
        assertFalse(String.join("", chunks).contains("\n"), "the start of the stop string was released");
    }

    @Test
    void aHeldBackPrefixThatDoesNotBecomeTheStopStringIsReleased() {
        StreamingText s = new StreamingText(BYTES, List.of("END"));
        List<String> chunks = new ArrayList<>();
        int[] ids = bytes("a EN b");
        for (int n = 1; n <= ids.length; n++) {
            chunks.add(s.update(java.util.Arrays.copyOf(ids, n)));
        }
        assertEquals("", chunks.get(3), "'EN' could still become 'END'");
        assertEquals("a EN b", String.join("", chunks));
        assertFalse(s.stopped());
        assertEquals("", s.flush());
    }

    @Test
    void theEarliestOfSeveralStopStringsWins() {
        StreamingText s = new StreamingText(BYTES, List.of("zz", "y"));
        stream(s, bytes("xxyzz"));
        assertEquals("xx", s.text());
    }
}

package io.heterorag.retrieval.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class ChunkerTest {

    private final Chunker chunker = new Chunker(1000, 200);

    @Test
    void shortTextIsOneChunk() {
        assertEquals(List.of("One sentence. Two sentences."), chunker.chunk("One sentence.  Two sentences."));
    }

    @Test
    void longTextIsCutOnSentencesWithinTheLimitAndOverlaps() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 60; i++) {
            sb.append("Sentence number ").append(i).append(" talks about the corpus callosum in some detail. ");
        }
        List<String> chunks = chunker.chunk(sb.toString());
        assertTrue(chunks.size() > 3);
        for (int i = 0; i < chunks.size(); i++) {
            String c = chunks.get(i);
            assertTrue(c.length() <= 1000, "chunk " + i + " has " + c.length() + " chars");
            assertTrue(c.endsWith("."), "chunks end on a sentence boundary");
            if (i > 0) {
                String firstSentence = c.substring(0, c.indexOf('.') + 1);
                assertTrue(chunks.get(i - 1).contains(firstSentence), "chunk " + i + " starts with the previous chunk's tail");
            }
        }
    }

    @Test
    void aSentenceLongerThanAChunkIsWindowed() {
        String word = "x".repeat(2500);
        List<String> chunks = chunker.chunk(word);
        assertEquals(3, chunks.size());
        chunks.forEach(c -> assertTrue(c.length() <= 1000));
        assertEquals(word.substring(800, 1000), chunks.get(1).substring(0, 200));
    }

    /** Four sentences of 10 characters: "A. C." is 21 characters. */
    static final String FOUR = "Aaaa bbbb. Cccc dddd. Eeee ffff. Gggg hhhh.";

    @Test
    void aChunkMayReachTheLimitExactlyAndCarriesWhatFitsInTheOverlap() {
        // 21 = max: two sentences fit; the carried sentence takes 11 characters with its space
        assertEquals(List.of("Aaaa bbbb. Cccc dddd.", "Cccc dddd. Eeee ffff.", "Eeee ffff. Gggg hhhh."), new Chunker(21, 11).chunk(FOUR));
        // overlap 10 < 11: nothing is carried
        assertEquals(List.of("Aaaa bbbb. Cccc dddd.", "Eeee ffff. Gggg hhhh."), new Chunker(21, 10).chunk(FOUR));
        // max 20: one sentence a chunk
        assertEquals(List.of("Aaaa bbbb.", "Cccc dddd.", "Eeee ffff.", "Gggg hhhh."), new Chunker(20, 10).chunk(FOUR));
        // a carry never makes the next chunk too long: with overlap 20 only one sentence is carried into 30
        assertEquals(List.of("Aaaa bbbb. Cccc dddd.", "Cccc dddd. Eeee ffff.", "Eeee ffff. Gggg hhhh."), new Chunker(30, 20).chunk(FOUR));
    }

    @Test
    void sentencesEndAtPunctuationOrABlankLine() {
        assertEquals(List.of("One. Two three! Four?"), new Chunker(30, 12).chunk("One.\n\nTwo three!  Four?"));
        assertEquals(List.of("Title line", "Body text."), new Chunker(15, 5).chunk("Title line\n  \nBody text."));
    }

    @Test
    void windowsOfALongSentenceStopAtItsEnd() {
        // step 30 - 12 = 18: windows [0, 30) and [18, 48) cover 48 characters; no third window
        assertEquals(List.of("x".repeat(30), "x".repeat(30)), new Chunker(30, 12).chunk("x".repeat(48)));
        assertEquals(List.of("x".repeat(30), "x".repeat(30), "x".repeat(13)), new Chunker(30, 12).chunk("x".repeat(49)));
    }

    @Test
    void theOverlapMustBeBelowTheChunkSize() {
        assertThrows(IllegalArgumentException.class, () -> new Chunker(10, 10));
        assertEquals(List.of("abc"), new Chunker(10, 9).chunk("abc"));
    }
}

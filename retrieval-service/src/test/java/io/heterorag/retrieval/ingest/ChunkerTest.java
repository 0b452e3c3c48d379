package io.heterorag.retrieval.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
}

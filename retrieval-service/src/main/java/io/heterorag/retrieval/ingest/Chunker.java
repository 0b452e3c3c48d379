package io.heterorag.retrieval.ingest;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a document into chunks of at most {@code max} characters that overlap by about
 * {@code overlap} characters, cutting on sentence boundaries where possible (the method's 1,000/200).
 */
public final class Chunker {

    private final int max;
    private final int overlap;

    public Chunker(int max, int overlap) {
        if (max < 1 || overlap < 0 || overlap >= max) {
            throw new IllegalArgumentException("chunk size must be at least 1 and overlap at least 0 and below the chunk size, not "
                    + max + " and " + overlap);
        }
        this.max = max;
        this.overlap = overlap;
    }

    public List<String> chunk(String text) {
        List<String> sentences = new ArrayList<>();
        for (String s : text.strip().split("(?<=[.!?])\\s+|\\n\\s*\\n")) {
            String t = s.strip();
            // a "sentence" longer than a chunk is cut into windows that overlap like chunks do
            for (int i = 0; i < t.length(); i += max - overlap) {
                sentences.add(t.substring(i, Math.min(t.length(), i + max)));
                if (i + max >= t.length()) {
                    break;
                }
            }
        }
        List<String> chunks = new ArrayList<>();
        List<String> current = new ArrayList<>();
        int length = 0;
        for (String s : sentences) {
            if (!current.isEmpty() && length + 1 + s.length() > max) {
                chunks.add(String.join(" ", current));
                // carry the last sentences that fit in the overlap into the next chunk
                List<String> carry = new ArrayList<>();
                int carried = 0;
                for (int i = current.size() - 1; i >= 0; i--) {
                    String c = current.get(i);
                    if (carried + c.length() + 1 > overlap || carried + c.length() + 1 + s.length() > max) {
                        break;
                    }
                    carry.add(0, c);
                    carried += c.length() + 1;
                }
                current = carry;
                length = Math.max(0, carried - 1);
            }
            length += (current.isEmpty() ? 0 : 1) + s.length();
            current.add(s);
        }
        if (!current.isEmpty()) {
            chunks.add(String.join(" ", current));
        }
        return chunks;
    }
}

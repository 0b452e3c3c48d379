package io.heterorag.model.generation;

import java.util.List;
import java.util.function.Function;

/**
 * Streaming detokenizer. Each update decodes all generated tokens so far (so merges across tokens,
 * e.g. WordPiece "##" pieces or bytes of one character, come out right) and releases only the new
 * suffix, holding back a trailing U+FFFD (a character whose bytes are not all generated yet) and any
 * tail that could still become a stop string. A stop string ends the text before it.
 */
final class StreamingText {

    private final Function<int[], String> decode;
    private final List<String> stops;
    private String text = "";
    private String emitted = "";
    private boolean stopped;

    StreamingText(Function<int[], String> decode, List<String> stops) {
        this.decode = decode;
        this.stops = stops.stream().filter(s -> !s.isEmpty()).toList();
    }

    /** Decodes the tokens so far; returns the text that can be released now ("" when none). */
    String update(int[] tokens) {
        if (stopped) {
            return "";
        }
        text = decode.apply(tokens);
        int stopAt = -1;
        for (String s : stops) {
            int i = text.indexOf(s);
            if (i >= 0 && (stopAt < 0 || i < stopAt)) {
                stopAt = i;
            }
        }
        if (stopAt >= 0) {
            text = text.substring(0, Math.max(stopAt, commonPrefix()));
            stopped = true;
            return release(text.length());
        }
        int end = text.length();
        while (end > 0 && text.charAt(end - 1) == '\uFFFD') {
            end--;
        }
        int hold = 0;
        for (String s : stops) {
            for (int k = Math.min(s.length() - 1, end); k > hold; k--) {
                if (text.regionMatches(end - k, s, 0, k)) {
                    hold = k;
                    break;
                }
            }
        }
        end -= hold;
        if (end > 0 && Character.isHighSurrogate(text.charAt(end - 1))) {
            end--;
        }
        return release(end);
    }

    /** Everything not yet released (generation ended). */
    String flush() {
        return release(text.length());
    }

    boolean stopped() {
        return stopped;
    }

    /** The text so far (cut before a stop string once one appeared). */
    String text() {
        return text;
    }

    private String release(int end) {
        // a decoder may rewrite earlier text (rare: clean-up of spaces); what was released stays released
        if (end <= emitted.length() || !text.startsWith(emitted)) {
            return "";
        }
        String out = text.substring(emitted.length(), end);
        emitted = text.substring(0, end);
        return out;
    }

    private int commonPrefix() {
        int n = Math.min(emitted.length(), text.length());
        int i = 0;
        while (i < n && emitted.charAt(i) == text.charAt(i)) {
            i++;
        }
        return i;
    }
}

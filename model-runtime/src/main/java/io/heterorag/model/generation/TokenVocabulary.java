package io.heterorag.model.generation;

import java.util.Arrays;
import java.util.function.Function;

/**
 * A generator's vocabulary as text, for grammars that constrain decoding: what each token adds to
 * the decoded text when it follows a word ({@link #surface}), with a leading space when it starts
 * a new word (WordPiece word-initial pieces, BPE's "Ġ", SentencePiece's "▁") and "" for tokens the
 * decoder drops (special tokens). Learned from the tokenizer's own decoder, so it is right for any
 * tokenizer family without knowing its rules.
 */
public final class TokenVocabulary {

    private final String[] surfaces;
    private final String[] firsts;
    private final int[] eos;

    /**
     * @param surfaces what each token adds after a word
     * @param firsts   each token's text when it is the first one decoded (a WordPiece "##x" keeps its "##" there)
     */
    public TokenVocabulary(String[] surfaces, String[] firsts, int[] eos) {
        if (surfaces.length != firsts.length) {
            throw new IllegalArgumentException(surfaces.length + " surfaces but " + firsts.length + " first-token texts");
        }
        this.surfaces = surfaces.clone();
        this.firsts = firsts.clone();
        this.eos = eos.clone();
    }

    /**
     * Surfaces from a decoder: decode([ref, t]) minus decode([ref]), where {@code ref} is an ordinary
     * word token (when the decoder's clean-up rewrites the pair so the prefix does not match, the token's
     * own text after a space is used). Ids the decoder cannot decode get "".
     */
    public static TokenVocabulary learn(int size, int ref, int[] eos, Function<int[], String> decode) {
        String[] s = new String[size];
        String[] f = new String[size];
        String base = decode.apply(new int[] {ref});
        for (int t = 0; t < size; t++) {
            String alone;
            String pair;
            try {
                alone = decode.apply(new int[] {t});
                pair = decode.apply(new int[] {ref, t});
            } catch (RuntimeException e) {
                s[t] = "";
                f[t] = "";
                continue;
            }
            f[t] = alone;
            if (alone.isEmpty()) {
                s[t] = ""; // dropped by the decoder: special tokens
            } else if (pair.startsWith(base)) {
                s[t] = pair.substring(base.length());
            } else {
                s[t] = " " + alone.strip();
            }
        }
        for (int e : eos) {
            if (e >= 0 && e < size) {
                s[e] = "";
                f[e] = "";
            }
        }
        return new TokenVocabulary(s, f, eos);
    }

    public int size() {
        return surfaces.length;
    }

    /** What token {@code id} adds to the text after a word ("" for tokens the decoder drops). */
    public String surface(int id) {
        return surfaces[id];
    }

    /** What token {@code id} decodes to as the first token of an output. */
    public String first(int id) {
        return firsts[id];
    }

    public int[] eos() {
        return eos.clone();
    }

    @Override
    public String toString() {
        return "TokenVocabulary(" + surfaces.length + " tokens, eos " + Arrays.toString(eos) + ")";
    }
}

package io.heterorag.model.generation;

import java.util.List;

/**
 * The Multi-corpora Query Generator's output language (HeteroRAG inference step 2) as a decoding
 * constraint: {@code <research>…</research><wiki>…</wiki><book>…</book><guideline>…</guideline>
 * <graph>term,relation</graph>}, tags in this order, each optional (a missing tag skips that corpus)
 * but at least one, every query at least one and at most {@code maxWords} words (the graph query:
 * per side of its one comma) of at most {@code maxWordChars} letters, digits or '-', then the end
 * token. One query per unstructured tag, so at most 4 unstructured queries. Whitespace is allowed
 * around the tag syntax (WordPiece decodes "&lt;research&gt;" as "&lt; research &gt;"); {@link TaggedQueries#parse}
 * reads it back.
 *
 * <p>Checked at the character level over {@link TokenVocabulary} surfaces, so it works with any
 * tokenizer. It also keeps the output completable: a token is allowed only if the shortest way to
 * finish from there (counted in characters, each available as a one-character token — checked when
 * bound) still fits the tokens left, so the output always ends with eos inside max_new_tokens.
 */
public final class TaggedQueryGrammar implements TokenConstraint.Spec {

    /** The tags in their order; the corpus of each is its upper-cased name. */
    public static final List<String> TAGS = List.of("research", "wiki", "book", "guideline", "graph");
    static final int GRAPH = 4;

    public static final TaggedQueryGrammar DEFAULT = new TaggedQueryGrammar(8, 24);

    private final int maxWords;
    private final int maxWordChars;
    /** Tags that may be written (a corpus the caller did not enable cannot be queried). */
    private final boolean[] enabled;

    public TaggedQueryGrammar(int maxWords, int maxWordChars) {
        this(maxWords, maxWordChars, TAGS);
    }

    private TaggedQueryGrammar(int maxWords, int maxWordChars, List<String> tags) {
        if (maxWords < 1 || maxWordChars < 1) {
            throw new IllegalArgumentException("a query needs at least one word of one character: maxWords " + maxWords
                    + ", maxWordChars " + maxWordChars);
        }
        this.maxWords = maxWords;
        this.maxWordChars = maxWordChars;
        this.enabled = new boolean[TAGS.size()];
        for (String t : tags) {
            if (!TAGS.contains(t)) {
                throw new IllegalArgumentException("unknown tag " + t + "; tags: " + TAGS);
            }
            enabled[TAGS.indexOf(t)] = true;
        }
        if (tags.isEmpty()) {
            throw new IllegalArgumentException("a grammar without tags admits no output");
        }
    }

    /** The same grammar admitting only {@code tags} (a non-empty subset of {@link #TAGS}; all when empty). */
    public TaggedQueryGrammar only(java.util.Collection<String> tags) {
        return tags.isEmpty() ? this : new TaggedQueryGrammar(maxWords, maxWordChars, List.copyOf(tags));
    }

    public int maxWords() {
        return maxWords;
    }

    /**
     * Characters of the shortest complete output (one one-letter query in the shortest enabled tag): an
     * upper bound of its tokens (bound to a vocabulary, whole-word tokens of the tag names count as one).
     */
    public int shortestOutput() {
        return new State().need();
    }

    @Override
    public TokenConstraint bind(TokenVocabulary vocabulary, int maxNewTokens) {
        // the completion argument needs every character of the syntax as a one-character token
        StringBuilder missing = new StringBuilder();
        for (char c : "</>,".toCharArray()) {
            if (!hasSingle(vocabulary, c, true)) {
                missing.append(c);
            }
        }
        for (String tag : TAGS) {
            for (char c : tag.toCharArray()) {
                if (!hasSingle(vocabulary, c, false) && missing.indexOf(String.valueOf(c)) < 0) {
                    missing.append(c);
                }
            }
        }
        if (missing.length() > 0) {
            throw new IllegalArgumentException("the generator's vocabulary has no one-character token for '" + missing
                    + "': it cannot write the tagged query grammar");
        }
        int[][] nameCost = nameCosts(vocabulary);
        int need = new State(nameCost).need() + 1;
        if (maxNewTokens < need) {
            throw new IllegalArgumentException("max_new_tokens " + maxNewTokens + " is too few for the tagged query grammar: the shortest"
                    + " complete output may take " + need + " tokens");
        }
        return (generated, remaining) -> allowed(vocabulary, nameCost, generated, remaining);
    }

    private static boolean hasSingle(TokenVocabulary v, char c, boolean spaceOk) {
        String bare = String.valueOf(c);
        for (int t = 0; t < v.size(); t++) {
            String s = v.surface(t);
            if (s.equals(bare) || (spaceOk && s.strip().equals(bare) && s.length() == 2)) {
                return true;
            }
        }
        return false;
    }

    private int[] allowed(TokenVocabulary v, int[][] nameCost, int[] generated, int remaining) {
        State s = new State(nameCost);
        for (int i = 0; i < generated.length; i++) {
            if (!s.feed(text(v, generated, i))) {
                throw new IllegalStateException("token " + generated[i] + " at " + i + " is outside the tagged query grammar");
            }
        }
        int[] out = new int[v.size() + v.eos().length];
        int n = 0;
        if (s.accepting()) {
            for (int e : v.eos()) {
                out[n++] = e;
            }
        }
        boolean first = generated.length == 0;
        for (int t = 0; t < v.size(); t++) {
            String piece = first ? v.first(t) : v.surface(t);
            if (piece.isEmpty()) {
                continue; // no progress: a loop that never ends
            }
            State next = s.copy();
            if (next.feed(piece) && next.need() <= remaining - 2) {
                out[n++] = t;
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    private static String text(TokenVocabulary v, int[] generated, int i) {
        return i == 0 ? v.first(generated[0]) : v.surface(generated[i]);
    }

    /** True when {@code text} can still be completed to an output of the grammar. */
    public boolean isPrefix(String text) {
        return new State().feed(text);
    }

    /** True when {@code text} is a complete output of the grammar. */
    public boolean accepts(String text) {
        State s = new State();
        return s.feed(text) && s.accepting();
    }

    private static final int OUT = 0;
    private static final int OPEN_NAME = 1;
    private static final int OPEN_GT = 2;
    private static final int CONTENT = 3;
    private static final int CLOSE_SLASH = 4;
    private static final int CLOSE_NAME = 5;
    private static final int CLOSE_GT = 6;

    /** Where the output is in the grammar: a small copyable cursor fed character by character. */
    private final class State {
        /** nameCost[tag][pos]: tokens to write the rest of the tag's name from pos; null: one per character. */
        final int[][] nameCost;
        int phase = OUT;
        int next;       // first tag that may still open
        int closed;     // tags written
        int tag = -1;   // the tag being written
        String prefix = ""; // OPEN_NAME: the name so far
        int namePos;    // CLOSE_NAME: characters of the name matched
        int words;      // CONTENT: words in the current query (graph: in the current side)
        int wordLen;    // CONTENT: letters of the word being written, 0 between words
        boolean comma;  // CONTENT of graph: on the relation side

        State() {
            this(null);
        }

        State(int[][] nameCost) {
            this.nameCost = nameCost;
        }

        State copy() {
            State s = new State(nameCost);
            s.phase = phase;
            s.next = next;
            s.closed = closed;
            s.tag = tag;
            s.prefix = prefix;
            s.namePos = namePos;
            s.words = words;
            s.wordLen = wordLen;
            s.comma = comma;
            return s;
        }

        boolean accepting() {
            return phase == OUT && closed > 0;
        }

        boolean feed(String text) {
            for (int i = 0; i < text.length(); i++) {
                if (!feed(text.charAt(i))) {
                    return false;
                }
            }
            return true;
        }

        boolean feed(char c) {
            boolean ws = Character.isWhitespace(c);
            switch (phase) {
                case OUT -> {
                    if (ws) {
                        return true;
                    }
                    if (c == '<' && cheapestTag(next, "", null) < Integer.MAX_VALUE) {
                        phase = OPEN_NAME;
                        prefix = "";
                        return true;
                    }
                    return false;
                }
                case OPEN_NAME -> {
                    if (ws) {
                        return prefix.isEmpty();
                    }
                    String p = prefix + c;
                    for (int i = next; i < TAGS.size(); i++) {
                        if (enabled[i] && TAGS.get(i).startsWith(p)) {
                            prefix = p;
                            if (TAGS.get(i).equals(p)) { // no tag name is a prefix of another
                                tag = i;
                                phase = OPEN_GT;
                            }
                            return true;
                        }
                    }
                    return false;
                }
                case OPEN_GT -> {
                    if (ws) {
                        return true;
                    }
                    if (c == '>') {
                        phase = CONTENT;
                        words = 0;
                        wordLen = 0;
                        comma = false;
                        return true;
                    }
                    return false;
                }
                case CONTENT -> {
                    if (ws) {
                        wordLen = 0;
                        return true;
                    }
                    if (Character.isLetterOrDigit(c) || c == '-') {
                        if (wordLen == 0) {
                            if (words >= maxWords) {
                                return false;
                            }
                            words++;
                        } else if (wordLen >= maxWordChars) {
                            return false;
                        }
                        wordLen++;
                        return true;
                    }
                    if (c == ',' && tag == GRAPH && !comma && words > 0) {
                        comma = true;
                        words = 0;
                        wordLen = 0;
                        return true;
                    }
                    if (c == '<' && words > 0 && (tag != GRAPH || comma)) {
                        phase = CLOSE_SLASH;
                        return true;
                    }
                    return false;
                }
                case CLOSE_SLASH -> {
                    if (ws) {
                        return true;
                    }
                    if (c == '/') {
                        phase = CLOSE_NAME;
                        namePos = 0;
                        return true;
                    }
                    return false;
                }
                case CLOSE_NAME -> {
                    if (ws) {
                        return namePos == 0;
                    }
                    if (c == TAGS.get(tag).charAt(namePos)) {
                        namePos++;
                        if (namePos == TAGS.get(tag).length()) {
                            phase = CLOSE_GT;
                        }
                        return true;
                    }
                    return false;
                }
                case CLOSE_GT -> {
                    if (ws) {
                        return true;
                    }
                    if (c == '>') {
                        phase = OUT;
                        closed++;
                        next = tag + 1;
                        tag = -1;
                        return true;
                    }
                    return false;
                }
                default -> throw new IllegalStateException("phase " + phase);
            }
        }

        /** Characters of the shortest way from here to a complete output (0 when complete). */
        int need() {
            return switch (phase) {
                case OUT -> closed > 0 ? 0 : 1 + cheapestTag(next, "", nameCost);
                case OPEN_NAME -> cheapestTag(next, prefix, nameCost);
                case OPEN_GT -> 1 + contentMin(tag, 0, false) + closeLen(tag, nameCost);
                case CONTENT -> contentMin(tag, words, comma) + closeLen(tag, nameCost);
                case CLOSE_SLASH -> 1 + name(tag, 0, nameCost) + 1;
                case CLOSE_NAME -> name(tag, namePos, nameCost) + 1;
                case CLOSE_GT -> 1;
                default -> throw new IllegalStateException("phase " + phase);
            };
        }
    }

    /** Characters after a tag's '<' to finish the shortest tag from {@code from} on whose name starts with {@code typed}. */
    private int cheapestTag(int from, String typed, int[][] nameCost) {
        int best = Integer.MAX_VALUE;
        for (int i = from; i < TAGS.size(); i++) {
            String name = TAGS.get(i);
            if (enabled[i] && name.startsWith(typed)) {
                int open = name(i, typed.length(), nameCost) + 1;
                best = Math.min(best, open + contentMin(i, 0, false) + closeLen(i, nameCost));
            }
        }
        return best;
    }

    private static int contentMin(int tag, int words, boolean comma) {
        if (tag != GRAPH) {
            return words > 0 ? 0 : 1;
        }
        if (!comma) {
            return words > 0 ? 2 : 3;
        }
        return words > 0 ? 0 : 1;
    }

    private static int closeLen(int tag, int[][] nameCost) {
        return 2 + name(tag, 0, nameCost) + 1;
    }

    private static int name(int tag, int pos, int[][] nameCost) {
        return nameCost == null ? TAGS.get(tag).length() - pos : nameCost[tag][pos];
    }

    /**
     * Fewest tokens that write each tag name's rest from each position (a whole-word token such as
     * WordPiece's "book" writes it in one): the shortest completion is counted in tokens, so a budget
     * the model's own targets fit is not refused.
     */
    static int[][] nameCosts(TokenVocabulary v) {
        java.util.Set<String> pieces = new java.util.HashSet<>();
        java.util.Set<String> starts = new java.util.HashSet<>(); // word-initial pieces: may open a name after '<' or '/'
        for (int t = 0; t < v.size(); t++) {
            String s = v.surface(t);
            if (!s.isEmpty() && !Character.isWhitespace(s.charAt(0))) {
                pieces.add(s);
            } else if (s.length() > 1 && s.strip().length() == s.length() - 1) {
                starts.add(s.substring(1));
            }
        }
        int[][] cost = new int[TAGS.size()][];
        for (int tag = 0; tag < TAGS.size(); tag++) {
            String name = TAGS.get(tag);
            int n = name.length();
            int[] c = new int[n + 1];
            for (int i = n - 1; i >= 0; i--) {
                c[i] = Integer.MAX_VALUE / 2;
                for (int j = i + 1; j <= n; j++) {
                    String part = name.substring(i, j);
                    if (pieces.contains(part) || (i == 0 && starts.contains(part))) {
                        c[i] = Math.min(c[i], 1 + c[j]);
                    }
                }
            }
            cost[tag] = c;
        }
        return cost;
    }

}

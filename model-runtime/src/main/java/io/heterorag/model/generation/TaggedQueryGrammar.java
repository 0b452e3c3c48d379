package io.heterorag.model.generation;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
 *
 * <p>{@link #copying} adds a copy constraint: every word of an unstructured query must be one of a
 * given set (the prompt's words, {@link #promptWords}), at most once per query — a word may only be a
 * prefix of an allowed word and may only end at a complete one (a character trie). A small model then
 * only has to learn which of the prompt's words make a good query, not how to spell them.
 */
public final class TaggedQueryGrammar implements TokenConstraint.Spec {

    /** The tags in their order; the corpus of each is its upper-cased name. */
    public static final List<String> TAGS = List.of("research", "wiki", "book", "guideline", "graph");
    static final int GRAPH = 4;

    /** 16 words: a MedPix question's first 16 terms find its topic nearly as often as all of them (docs/query-generator.md). */
    public static final TaggedQueryGrammar DEFAULT = new TaggedQueryGrammar(16, 24);

    private final int maxWords;
    private final int maxWordChars;
    /** Tags that may be written (a corpus the caller did not enable cannot be queried). */
    private final boolean[] enabled;
    /** The words unstructured queries may use; null: any word. */
    private final WordTrie words;

    public TaggedQueryGrammar(int maxWords, int maxWordChars) {
        this(maxWords, maxWordChars, TAGS, null);
    }

    private TaggedQueryGrammar(int maxWords, int maxWordChars, List<String> tags, WordTrie words) {
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
        this.words = words;
    }

    /** The same grammar admitting only {@code tags} (a non-empty subset of {@link #TAGS}; all when empty). */
    public TaggedQueryGrammar only(java.util.Collection<String> tags) {
        return tags.isEmpty() ? this : new TaggedQueryGrammar(maxWords, maxWordChars, List.copyOf(tags), words);
    }

    /**
     * The same grammar where each word of an unstructured query (not the graph query: its relation is not
     * in the prompt) is one of {@code allowed} (lower case; a word longer than maxWordChars or with a
     * character other than a letter, digit or '-' is dropped), at most once per query.
     *
     * @throws IllegalArgumentException when no allowed word remains (there would be nothing to write)
     */
    public TaggedQueryGrammar copying(Collection<String> allowed) {
        List<String> kept = allowed.stream().filter(this::writable).distinct().toList();
        if (kept.isEmpty()) {
            throw new IllegalArgumentException("no word to copy: a copying grammar needs at least one word of letters, digits or '-'");
        }
        List<String> tags = new ArrayList<>();
        for (int i = 0; i < TAGS.size(); i++) {
            if (enabled[i]) {
                tags.add(TAGS.get(i));
            }
        }
        return new TaggedQueryGrammar(maxWords, maxWordChars, tags, new WordTrie(kept));
    }

    private boolean writable(String w) {
        return !w.isEmpty() && w.length() <= maxWordChars && w.chars().allMatch(c -> Character.isLowerCase(c) || Character.isDigit(c) || c == '-');
    }

    /**
     * The words a query may copy from a prompt: the content words ({@link QueryTerms#terms}) of the
     * question and the reports, hyphenated ones split into their parts (WordPiece writes "x-ray" as
     * "x - ray"), accents stripped (as the BERT normaliser does), each once, in order of appearance.
     */
    public static Set<String> promptWords(String question, List<String> reports) {
        Set<String> out = new LinkedHashSet<>();
        List<String> texts = new ArrayList<>();
        texts.add(question);
        reports.stream().map(RagPrompt::clip).forEach(texts::add); // as the prompt shows them
        for (String text : texts) {
            for (String term : QueryTerms.terms(text)) {
                for (String part : Normalizer.normalize(term, Normalizer.Form.NFD).replaceAll("\\p{M}+", "").split("-")) {
                    if (!part.isEmpty()) {
                        out.add(part);
                    }
                }
            }
        }
        return out;
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

    /** The allowed words a vocabulary can spell: a word's first character as a word-initial one-character token, the rest as continuations. */
    private WordTrie spellable(TokenVocabulary v) {
        Set<Character> starts = new java.util.HashSet<>();
        Set<Character> singles = new java.util.HashSet<>();
        for (int t = 0; t < v.size(); t++) {
            String s = v.surface(t);
            if (s.length() == 1) {
                singles.add(s.charAt(0));
            } else if (s.length() == 2 && Character.isWhitespace(s.charAt(0))) {
                starts.add(s.charAt(1));
            }
        }
        List<String> kept = new ArrayList<>();
        for (String w : words.words) {
            boolean ok = starts.contains(w.charAt(0));
            for (int i = 1; ok && i < w.length(); i++) {
                ok = singles.contains(w.charAt(i));
            }
            if (ok) {
                kept.add(w);
            }
        }
        if (kept.isEmpty()) {
            throw new IllegalArgumentException("the generator's vocabulary cannot spell any of the " + words.words.size() + " words to copy");
        }
        return kept.size() == words.words.size() ? words : new WordTrie(kept);
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
        WordTrie trie = words == null ? null : spellable(vocabulary);
        int need = new State(nameCost, trie).need() + 1;
        if (maxNewTokens < need) {
            throw new IllegalArgumentException("max_new_tokens " + maxNewTokens + " is too few for the tagged query grammar: the shortest"
                    + " complete output may take " + need + " tokens");
        }
        return (generated, remaining) -> allowed(vocabulary, nameCost, trie, generated, remaining);
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

    private int[] allowed(TokenVocabulary v, int[][] nameCost, WordTrie trie, int[] generated, int remaining) {
        State s = new State(nameCost, trie);
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
        /** The words queries may copy (null: any). */
        final WordTrie trie;
        int phase = OUT;
        int next;       // first tag that may still open
        int closed;     // tags written
        int tag = -1;   // the tag being written
        String prefix = ""; // OPEN_NAME: the name so far
        int namePos;    // CLOSE_NAME: characters of the name matched
        int words;      // CONTENT: words in the current query (graph: in the current side)
        int wordLen;    // CONTENT: letters of the word being written, 0 between words
        boolean comma;  // CONTENT of graph: on the relation side
        int node = -1;  // CONTENT of a copying query: the trie node of the word being written
        int[] used;     // CONTENT of a copying query: the words the query has written
        int nUsed;

        State() {
            this(null, TaggedQueryGrammar.this.words);
        }

        State(int[][] nameCost, WordTrie trie) {
            this.nameCost = nameCost;
            this.trie = trie;
            this.used = trie == null ? null : new int[maxWords];
        }

        State copy() {
            State s = new State(nameCost, trie);
            s.node = node;
            s.nUsed = nUsed;
            if (used != null) {
                System.arraycopy(used, 0, s.used, 0, nUsed);
            }
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
                    if (c == '<' && cheapestTag(next, "", null, trie) < Integer.MAX_VALUE) {
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
                        node = -1;
                        nUsed = 0;
                        return true;
                    }
                    return false;
                }
                case CONTENT -> {
                    boolean copying = copying();
                    if (ws) {
                        if (copying && wordLen > 0 && !endWord()) {
                            return false;
                        }
                        wordLen = 0;
                        return true;
                    }
                    if (Character.isLetterOrDigit(c) || c == '-') {
                        if (wordLen == 0) {
                            if (words >= maxWords) {
                                return false;
                            }
                            words++;
                            node = 0;
                        } else if (wordLen >= maxWordChars) {
                            return false;
                        }
                        if (copying) {
                            // only a prefix of an allowed word not yet in this query
                            int child = trie.child(node, c);
                            if (child < 0 || trie.nearest(child, used, nUsed) < 0) {
                                return false;
                            }
                            node = child;
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
                        if (copying && wordLen > 0 && !endWord()) {
                            return false;
                        }
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

        private boolean copying() {
            return trie != null && tag != GRAPH;
        }

        /** Ends the word being copied: it must be a whole allowed word not yet in this query. */
        private boolean endWord() {
            int w = trie.word[node];
            for (int i = 0; i < nUsed; i++) {
                if (used[i] == w) {
                    return false;
                }
            }
            if (w < 0) {
                return false;
            }
            used[nUsed++] = w;
            node = -1;
            return true;
        }

        /** Characters of the shortest way from here to a complete output (0 when complete). */
        int need() {
            return switch (phase) {
                case OUT -> closed > 0 ? 0 : 1 + cheapestTag(next, "", nameCost, trie);
                case OPEN_NAME -> cheapestTag(next, prefix, nameCost, trie);
                case OPEN_GT -> 1 + contentMin(tag, 0, false, trie) + closeLen(tag, nameCost);
                case CONTENT -> (copying() && wordLen > 0 ? trie.nearest(node, used, nUsed) : contentMin(tag, words, comma, trie))
                        + closeLen(tag, nameCost);
                case CLOSE_SLASH -> 1 + name(tag, 0, nameCost) + 1;
                case CLOSE_NAME -> name(tag, namePos, nameCost) + 1;
                case CLOSE_GT -> 1;
                default -> throw new IllegalStateException("phase " + phase);
            };
        }
    }

    /** Characters after a tag's '<' to finish the shortest tag from {@code from} on whose name starts with {@code typed}. */
    private int cheapestTag(int from, String typed, int[][] nameCost, WordTrie trie) {
        int best = Integer.MAX_VALUE;
        for (int i = from; i < TAGS.size(); i++) {
            String name = TAGS.get(i);
            if (enabled[i] && name.startsWith(typed)) {
                int open = name(i, typed.length(), nameCost) + 1;
                best = Math.min(best, open + contentMin(i, 0, false, trie) + closeLen(i, nameCost));
            }
        }
        return best;
    }

    /** Characters to finish a query between words (a copying query's first word is at least its shortest allowed word). */
    private static int contentMin(int tag, int words, boolean comma, WordTrie trie) {
        if (tag != GRAPH) {
            return words > 0 ? 0 : trie == null ? 1 : trie.depth[0];
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

    /** A character trie over the words a query may copy; node 0 is the root, a child's id is above its parent's. */
    static final class WordTrie {
        final List<String> words;
        /** word[n]: the id of the word ending at node n, else -1. */
        final int[] word;
        /** depth[n] / nearestWord[n]: characters from n to its closest word end, and that word. */
        final int[] depth;
        final int[] nearestWord;
        private final List<Map<Character, Integer>> next = new ArrayList<>();

        WordTrie(List<String> words) {
            this.words = List.copyOf(words);
            List<Integer> ends = new ArrayList<>();
            next.add(new java.util.LinkedHashMap<>());
            ends.add(-1);
            for (int id = 0; id < words.size(); id++) {
                int n = 0;
                for (char c : words.get(id).toCharArray()) {
                    Integer child = next.get(n).get(c);
                    if (child == null) {
                        child = next.size();
                        next.add(new java.util.LinkedHashMap<>());
                        ends.add(-1);
                        next.get(n).put(c, child);
                    }
                    n = child;
                }
                ends.set(n, id);
            }
            word = ends.stream().mapToInt(Integer::intValue).toArray();
            depth = new int[word.length];
            nearestWord = new int[word.length];
            for (int n = word.length - 1; n >= 0; n--) { // children first
                depth[n] = Integer.MAX_VALUE / 2;
                if (word[n] >= 0) {
                    depth[n] = 0;
                    nearestWord[n] = word[n];
                    continue;
                }
                for (int child : next.get(n).values()) {
                    if (1 + depth[child] < depth[n]) {
                        depth[n] = 1 + depth[child];
                        nearestWord[n] = nearestWord[child];
                    }
                }
            }
        }

        int child(int node, char c) {
            return next.get(node).getOrDefault(c, -1);
        }

        /** Characters from {@code node} to the end of its closest word not among {@code used}, or -1 when every word below is used. */
        int nearest(int node, int[] used, int nUsed) {
            if (!contains(used, nUsed, nearestWord[node])) {
                return depth[node];
            }
            // breadth first: the first free word end met is the closest
            java.util.ArrayDeque<int[]> queue = new java.util.ArrayDeque<>();
            queue.add(new int[] {node, 0});
            while (!queue.isEmpty()) {
                int[] at = queue.poll();
                if (word[at[0]] >= 0 && !contains(used, nUsed, word[at[0]])) {
                    return at[1];
                }
                for (int child : next.get(at[0]).values()) {
                    queue.add(new int[] {child, at[1] + 1});
                }
            }
            return -1;
        }

        private static boolean contains(int[] used, int n, int w) {
            for (int i = 0; i < n; i++) {
                if (used[i] == w) {
                    return true;
                }
            }
            return false;
        }
    }
}

package io.heterorag.model.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.heterorag.model.bundle.ExecutionProviders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tagged grammar as a decoding constraint: whatever the weights, the output parses. */
class TaggedQueryGrammarTest {

    @TempDir
    static Path dir;

    private static final String PROMPT = "Write queries. Question: what is the mass in the left lung?";

    @Test
    void anyWeightsGreedyOrSampledWriteParsableQueries() {
        List<String> outputs = new ArrayList<>();
        for (long seed : new long[] {1, 2, 3}) {
            Path bundle = seed == 2 ? TinyMqgBundles.qwen2vl(dir.resolve("q" + seed), seed) : TinyMqgBundles.llava(dir.resolve("l" + seed), seed);
            try (OnnxGenerator g = OnnxGenerator.load(bundle, ExecutionProviders.choose("cpu", 1))) {
                BufferedImage image = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
                for (int i = 0; i < 4; i++) {
                    DecodingOptions o = i == 0 ? DecodingOptions.greedy(60)
                            : new DecodingOptions(60, 1.5f, 1f, 0, seed * 10 + i, 1f, List.of(), List.of());
                    Generation out = g.generate(new GenerationInput(i % 2 == 0 ? image : null, PROMPT),
                            o.withConstraint(TaggedQueryGrammar.DEFAULT), null);
                    outputs.add(out.text());
                    assertEquals("eos", out.finishReason(), out.text());
                    assertTrue(TaggedQueryGrammar.DEFAULT.accepts(out.text()), out.text());
                    List<TaggedQueries.Query> q = TaggedQueries.parse(out.text());
                    assertFalse(q.isEmpty(), out.text());
                    for (TaggedQueries.Query query : q) {
                        int words = query.text().split("[ ,]+").length;
                        assertTrue(words <= 2 * TaggedQueryGrammar.DEFAULT.maxWords(), query.toString());
                    }
                }
            }
        }
        // not one fixed string: the weights and the draws do choose
        assertTrue(outputs.stream().distinct().count() > 3, outputs.toString());
    }

    @Test
    void theUnconstrainedModelDoesNotWriteTheGrammar() {
        try (OnnxGenerator g = OnnxGenerator.load(TinyMqgBundles.llava(dir.resolve("l1"), 1), ExecutionProviders.choose("cpu", 1))) {
            Generation out = g.generate(new GenerationInput(null, PROMPT), DecodingOptions.greedy(40), null);
            assertFalse(TaggedQueryGrammar.DEFAULT.accepts(out.text()), out.text());
        }
    }

    @Test
    void aTightBudgetStillEndsInACompleteOutput() {
        try (OnnxGenerator g = OnnxGenerator.load(TinyMqgBundles.llava(dir.resolve("l3"), 3), ExecutionProviders.choose("cpu", 1))) {
            // "<", "wiki", ">", "a", "<", "/", "wiki", ">" and eos: the tag names are whole tokens of this vocabulary
            int min = 9;
            for (int budget : new int[] {min, min + 3, min + 9}) {
                Generation out = g.generate(new GenerationInput(null, PROMPT),
                        new DecodingOptions(budget, 1f, 1f, 0, budget, 1f, List.of(), List.of()).withConstraint(TaggedQueryGrammar.DEFAULT), null);
                assertEquals("eos", out.finishReason(), out.text());
                assertTrue(out.tokenIds().length <= budget);
                assertFalse(TaggedQueries.parse(out.text()).isEmpty(), out.text());
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.generate(new GenerationInput(null, PROMPT),
                    DecodingOptions.greedy(min - 1).withConstraint(TaggedQueryGrammar.DEFAULT), null));
            assertTrue(e.getMessage().contains("too few") && e.getMessage().contains("take 9 tokens"), e.getMessage());
        }
    }

    @Test
    void cachedAndRecomputedDecodingAgreeUnderTheConstraint() {
        try (OnnxGenerator g = OnnxGenerator.load(TinyMqgBundles.llava(dir.resolve("l1"), 1), ExecutionProviders.choose("cpu", 1))) {
            DecodingOptions o = DecodingOptions.greedy(50).withConstraint(TaggedQueryGrammar.DEFAULT);
            GenerationInput in = new GenerationInput(null, PROMPT);
            assertEquals(g.generateWithoutCache(in, o).text(), g.generate(in, o, null).text());
        }
    }

    @Test
    void aVocabularyWithoutAngleBracketsIsRefusedNamingThem() {
        try (OnnxGenerator g = OnnxGenerator.load(TinyVlmBundles.llava(dir.resolve("vqa")), ExecutionProviders.choose("cpu", 1))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.generate(new GenerationInput(null, PROMPT),
                    DecodingOptions.greedy(40).withConstraint(TaggedQueryGrammar.DEFAULT), null));
            assertTrue(e.getMessage().contains("'<>"), e.getMessage());
        }
    }

    @Test
    void choicesAndAConstraintTogetherAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> DecodingOptions.greedy(8).withChoices(List.of("yes")).withConstraint(TaggedQueryGrammar.DEFAULT));
    }

    @Test
    void aGrammarOfSomeTagsWritesOnlyThose() {
        TaggedQueryGrammar only = TaggedQueryGrammar.DEFAULT.only(List.of("wiki", "graph"));
        assertTrue(only.accepts("<wiki>a</wiki><graph>a,b</graph>"));
        assertFalse(only.accepts("<book>a</book>"));
        assertEquals(1 + 4 + 1 + 1 + 2 + 4 + 1, only.shortestOutput());
        assertEquals(1 + 5 + 1 + 3 + 2 + 5 + 1, TaggedQueryGrammar.DEFAULT.only(List.of("graph")).shortestOutput());
        try (OnnxGenerator g = OnnxGenerator.load(TinyMqgBundles.llava(dir.resolve("l3"), 3), ExecutionProviders.choose("cpu", 1))) {
            for (int seed = 0; seed < 4; seed++) {
                Generation out = g.generate(new GenerationInput(null, PROMPT),
                        new DecodingOptions(50, 1.5f, 1f, 0, seed, 1f, List.of(), List.of()).withConstraint(only), null);
                for (TaggedQueries.Query q : TaggedQueries.parse(out.text())) {
                    assertTrue(q.tag().equals("wiki") || q.tag().equals("graph"), out.text());
                }
            }
        }
    }

    @Test
    void grammarAtTheCharacterLevel() {
        TaggedQueryGrammar g = new TaggedQueryGrammar(2, 6);
        assertTrue(g.accepts("<research>mass lung</research><graph>mass,is a</graph>"));
        assertTrue(TaggedQueryGrammar.DEFAULT.accepts("< wiki > x - ray < / wiki >  "));
        assertFalse(g.accepts(""), "at least one tag");
        assertFalse(g.accepts("<wiki>a</wiki><research>b</research>"), "order");
        assertFalse(g.accepts("<wiki>a</wiki><wiki>b</wiki>"), "twice");
        assertFalse(g.accepts("<wiki></wiki>"), "an empty tag is written by leaving it out");
        assertFalse(g.accepts("<wiki>a b c</wiki>"), "too many words");
        assertFalse(g.accepts("<wiki>abcdefg</wiki>"), "too long a word");
        assertFalse(g.accepts("<graph>mass</graph>"), "graph needs term,relation");
        assertFalse(g.accepts("<book>a,b</book>"), "comma only in graph");
        assertFalse(g.accepts("<bo ok>a</book>"), "no space inside a name");
        assertTrue(g.isPrefix("<guide"));
        assertFalse(g.isPrefix("<guidx"));
        assertEquals(1 + 4 + 1 + 1 + 2 + 4 + 1, g.shortestOutput());
    }

    @Test
    void aCopyingGrammarAdmitsOnlyWholeAllowedWordsOncePerQuery() {
        TaggedQueryGrammar g = new TaggedQueryGrammar(3, 24).copying(List.of("headache", "head", "mass", "x", "ray"));
        assertTrue(g.accepts("<book>headache mass</book>"));
        assertTrue(g.accepts("<book>head</book>"), "a word that is a prefix of another is a word");
        assertTrue(g.accepts("< wiki > mass < / wiki > < book > x ray < / book >"), "the same word in two queries; WordPiece spacing");
        assertFalse(g.accepts("<book>hea</book>"), "a word ends only at a complete allowed word");
        assertFalse(g.accepts("<book>pain</book>"), "not an allowed word");
        assertFalse(g.accepts("<book>headaches</book>"), "not a prefix of an allowed word");
        assertFalse(g.accepts("<book>mass mass</book>"), "no word twice in one query");
        assertFalse(g.accepts("<book>x ray mass head</book>"), "maxWords still holds");
        assertTrue(g.isPrefix("<book>heada"));
        assertFalse(g.isPrefix("<book>headx"));
        // once "headache" is used, "head" still completes to "head"; once both are, "h" leads nowhere
        assertTrue(g.isPrefix("<book>headache hea"));
        assertFalse(g.isPrefix("<book>headache head h"));
        assertFalse(g.isPrefix("<book>head headache h"));
        assertTrue(g.accepts("<graph>anything,related</graph>"), "the graph query is not copied");
        // the shortest output uses the shortest allowed word
        TaggedQueryGrammar one = TaggedQueryGrammar.DEFAULT.only(List.of("wiki")).copying(List.of("mass"));
        assertEquals(1 + 4 + 1 + 4 + 2 + 4 + 1, one.shortestOutput());
        assertThrows(IllegalArgumentException.class, () -> TaggedQueryGrammar.DEFAULT.copying(List.of("", "a b", "Upper")));
    }

    @Test
    void promptWordsAreTheContentWordsSplitAtHyphensWithoutAccents() {
        assertEquals(List.of("headache", "x", "ray", "fever", "crane"),
                List.copyOf(TaggedQueryGrammar.promptWords("A 30 year old with headache. X-ray?", List.of("Fever and headache", "crâne"))));
    }

    @Test
    void aCopyingModelWritesOnlyPromptWordsWithinItsBudget() {
        String prompt = "Question: a mass in the lung with pleural effusion and fever, what is the diagnosis?";
        java.util.Set<String> allowed = TaggedQueryGrammar.promptWords(prompt, List.of());
        TaggedQueryGrammar copying = TaggedQueryGrammar.DEFAULT.copying(allowed);
        List<String> outputs = new ArrayList<>();
        for (long seed : new long[] {1, 2, 3}) {
            Path bundle = seed == 2 ? TinyMqgBundles.qwen2vl(dir.resolve("q" + seed), seed) : TinyMqgBundles.llava(dir.resolve("l" + seed), seed);
            try (OnnxGenerator g = OnnxGenerator.load(bundle, ExecutionProviders.choose("cpu", 1))) {
                for (int i = 0; i < 4; i++) {
                    int budget = i == 3 ? 14 : 60;
                    DecodingOptions o = i == 0 ? DecodingOptions.greedy(budget)
                            : new DecodingOptions(budget, 1.5f, 1f, 0, seed * 10 + i, 1f, List.of(), List.of());
                    Generation out = g.generate(new GenerationInput(null, prompt), o.withConstraint(copying), null);
                    outputs.add(out.text());
                    assertEquals("eos", out.finishReason(), out.text());
                    assertTrue(out.tokenIds().length <= budget, out.text());
                    for (TaggedQueries.Query q : TaggedQueries.parse(out.text())) {
                        if (!q.tag().equals("graph")) {
                            List<String> words = List.of(q.text().split(" +"));
                            assertTrue(allowed.containsAll(words), out.text());
                            assertEquals(words.size(), words.stream().distinct().count(), out.text());
                        }
                    }
                }
            }
        }
        assertTrue(outputs.stream().distinct().count() > 3, outputs.toString());
        // words not in this vocabulary are spelled from pieces
        try (OnnxGenerator g = OnnxGenerator.load(TinyMqgBundles.llava(dir.resolve("l1"), 1), ExecutionProviders.choose("cpu", 1))) {
            TaggedQueryGrammar only = TaggedQueryGrammar.DEFAULT.only(List.of("book")).copying(List.of("pneumomass", "effusions"));
            for (int seed = 0; seed < 3; seed++) {
                Generation out = g.generate(new GenerationInput(null, prompt),
                        new DecodingOptions(40, 1.5f, 1f, 0, seed, 1f, List.of(), List.of()).withConstraint(only), null);
                String text = TaggedQueries.parse(out.text()).get(0).text();
                assertTrue(List.of("pneumomass", "effusions", "pneumomass effusions", "effusions pneumomass").contains(text), out.text());
            }
        }
    }
}

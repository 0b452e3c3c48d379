package io.heterorag.model.generation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import org.junit.jupiter.api.Test;

/** One request's decoding bookkeeping, token by token: finish reasons, released text, constrained choices. */
class DecodeStateTest {

    static final int EOS = 3;
    static final int[] PROMPT = {2, 20, 21};

    /** Token t decodes to WORDS[t - 10] followed by a space; others to nothing. */
    static final List<String> WORDS = List.of("yes", "no", "change", "sir", "END", "a", "b");

    static final Function<int[], String> DECODE = ids -> {
        StringBuilder s = new StringBuilder();
        for (int id : ids) {
            if (id >= 10 && id < 10 + WORDS.size()) {
                s.append(WORDS.get(id - 10)).append(' ');
            }
        }
        return s.toString();
    };

    static DecodeState state(DecodingOptions o, int maxNew, ChoiceTrie trie, int... eos) {
        return new DecodeState(new FamilyAdapter.Prepared(PROMPT, new float[0], new long[1][PROMPT.length], 0), new float[0], o, maxNew,
                eos.length == 0 ? new int[] {EOS} : eos, trie, DECODE, System.nanoTime());
    }

    static List<Object> events(DecodeState s) {
        List<Object> out = new ArrayList<>();
        s.events.drainTo(out);
        return out;
    }

    @Test
    void theEndTokenFinishesWithEosAndIsNotPartOfTheOutput() {
        DecodeState s = state(DecodingOptions.greedy(8), 8, null);
        assertFalse(s.finished());
        assertFalse(s.accept(15));
        assertFalse(s.finished());
        assertEquals(15, s.last());
        assertEquals(3, s.lastIndex(), "prompt of 3, one generated: index 3");
        assertFalse(s.accept(16));
        assertEquals(4, s.lastIndex());
        assertNull(s.result());
        assertTrue(s.accept(EOS));
        assertTrue(s.finished());
        Generation g = s.result();
        assertEquals("a b ", g.text());
        assertArrayEquals(new int[] {15, 16}, g.tokenIds());
        assertEquals(3, g.promptTokens());
        assertEquals("eos", g.finishReason());
        assertTrue(g.firstTokenNanos() >= 0 && g.firstTokenNanos() <= g.totalNanos());
        assertTrue(g.totalNanos() < 60_000_000_000L, "measured from the start: " + g.totalNanos());
        assertEquals("a b ", String.join("", events(s).stream().map(String.class::cast).toList()));
        s.complete();
        assertEquals(List.of(g), events(s));
    }

    @Test
    void anyOfSeveralEndTokensEndsAndTheBudgetEndsWithLength() {
        DecodeState two = state(DecodingOptions.greedy(8), 8, null, EOS, 7);
        two.accept(15);
        assertTrue(two.accept(7));
        assertEquals("eos", two.result().finishReason());

        DecodeState s = state(DecodingOptions.greedy(2), 2, null);
        assertFalse(s.accept(15), "one of two");
        assertTrue(s.accept(16));
        assertEquals("length", s.result().finishReason());
        assertEquals("a b ", s.result().text());
    }

    @Test
    void aStopStringEndsTheTextBeforeIt() {
        DecodingOptions o = new DecodingOptions(8, 0, 1, 0, 0, 1, List.of("END"), List.of());
        DecodeState s = state(o, 8, null);
        s.accept(15);
        assertTrue(s.accept(14));
        assertEquals("stop", s.result().finishReason());
        assertEquals("a ", s.result().text());
        assertArrayEquals(new int[] {15, 14}, s.result().tokenIds());
    }

    @Test
    void manyTokensAreKept() {
        DecodeState s = state(DecodingOptions.greedy(100), 100, null);
        int[] expected = new int[40];
        for (int i = 0; i < 40; i++) {
            expected[i] = 15 + i % 2;
            assertFalse(s.accept(expected[i]));
        }
        assertArrayEquals(expected, s.tokens());
        assertEquals(16, s.last());
        assertEquals(PROMPT.length + 39, s.lastIndex());
    }

    @Test
    void chooseReadsItsRowAndPenalisesPromptAndGeneratedTokens() {
        // two rows of 30 logits; this state's row is the second
        float[] logits = new float[60];
        logits[30 + 20] = 4f; // a prompt token
        logits[30 + 15] = 3f;
        logits[30 + 16] = 2.5f;
        logits[16] = 9f; // the other row's
        assertEquals(20, state(DecodingOptions.greedy(8), 8, null).choose(logits, 30, 30));
        DecodingOptions penalised = new DecodingOptions(8, 0, 1, 0, 0, 2f, List.of(), List.of());
        DecodeState s = state(penalised, 8, null);
        assertEquals(15, s.choose(logits, 30, 30), "4 / 2 = 2 < 3");
        s.accept(15);
        assertEquals(16, s.choose(logits, 30, 30), "3 / 2 = 1.5 < 2.5 once 15 is generated");
    }

    @Test
    void aConstrainedStateEndsOnAChoiceAndNamesIt() {
        // "yes" = [10], "no change" = [11, 12]
        DecodingOptions o = DecodingOptions.greedy(8).withChoices(List.of("yes", "no change"));
        ChoiceTrie trie = new ChoiceTrie(List.of(new int[] {10}, new int[] {11, 12}), EOS);
        DecodeState s = state(o, 8, trie);
        float[] logits = new float[30];
        logits[12] = 5f;
        logits[11] = 1f;
        assertEquals(11, s.choose(logits, 0, 30), "12 is not allowed first");
        assertFalse(s.accept(11));
        assertFalse(s.accept(12));
        assertTrue(s.accept(EOS));
        assertEquals("closed", s.result().finishReason());
        assertEquals("no change", s.result().text());
        assertArrayEquals(new int[] {11, 12}, s.result().tokenIds());
        assertEquals(List.of("no change"), events(s), "a closed answer is released whole");

        assertThrows(IllegalStateException.class, () -> state(o, 8, trie).accept(12));
    }

    @Test
    void aConstrainedStateOutOfBudgetEndsOnACompleteChoiceOrWithItsPartialText() {
        // "yes" = [10], "yes sir" = [10, 13]: after 10 the budget of 1 is spent, the end token is implied
        DecodingOptions o = DecodingOptions.greedy(1).withChoices(List.of("yes", "yes sir"));
        DecodeState s = state(o, 1, new ChoiceTrie(List.of(new int[] {10}, new int[] {10, 13}), EOS));
        assertTrue(s.accept(10));
        assertEquals("closed", s.result().finishReason());
        assertEquals("yes", s.result().text());
        // with a budget of 2 it may go on
        DecodeState two = state(o.withChoices(o.choices()), 2, new ChoiceTrie(List.of(new int[] {10}, new int[] {10, 13}), EOS));
        assertFalse(two.accept(10));
        assertTrue(two.accept(13));
        assertEquals("yes sir", two.result().text(), "the budget spent on a complete choice");

        DecodeState partial = state(DecodingOptions.greedy(1).withChoices(List.of("no change")), 1,
                new ChoiceTrie(List.of(new int[] {11, 12}), EOS));
        assertTrue(partial.accept(11));
        assertEquals("length", partial.result().finishReason());
        assertEquals("no ", partial.result().text());
        assertEquals(List.of("no "), events(partial));
    }

    @Test
    void aFailedStateIsFinishedWithTheErrorAsItsEvent() {
        DecodeState s = state(DecodingOptions.greedy(4), 4, null);
        RuntimeException e = new IllegalStateException("decoder failed");
        s.fail(e);
        assertTrue(s.finished());
        assertEquals(List.of(e), events(s));
    }
}

package io.heterorag.generation.answer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** Content words, yes/no answers, citations in prompt order and their summed support. */
class AttributionTest {

    static final Attribution SOURCES = new Attribution(List.of(
            Attribution.source("book#0", 0.75f, "Pneumothorax: air in the pleural space collapses the lungs."),
            Attribution.source("wiki#0", 0.5f, "Pleural effusion: fluid in the pleural space."),
            Attribution.source("r1", 0.25f, "Large right pneumothorax.")));

    @Test
    void contentWordsHaveThreeCharactersAreNoStopWordsAndLoseAPluralS() {
        // "cm" and "us" are short, "the" and "shows" stop words; "cats" (4) keeps its s, "lungs" (5) loses it, "glass" keeps "ss"
        assertEquals(List.of("nodule", "mass", "glass", "abc", "cats", "lung", "2024"),
                List.copyOf(Attribution.words("The nodules, a MASS; 2 cm; glass ABC us cats lungs shows 2024 nodule")));
        assertEquals(Set.of(), Attribution.words("Is it the one?"));
    }

    @Test
    void aBareYesOrNoIsRecognisedWhateverItsCaseAndTrailingPunctuation() {
        assertTrue(Attribution.isYesNo(" Yes."));
        assertTrue(Attribution.isYesNo("no!! "));
        assertTrue(Attribution.isYesNo("NO"));
        assertFalse(Attribution.isYesNo("no change"));
        assertFalse(Attribution.isYesNo("yesno"));
        assertFalse(Attribution.isYesNo("not"));
    }

    @Test
    void citationsAreTheSourcesSharingAWordInPromptOrder() {
        assertEquals(List.of("book#0", "wiki#0"), SOURCES.cite(Set.of("pleural")));
        assertEquals(List.of("book#0", "r1"), SOURCES.cite(Set.of("pneumothorax", "unrelated")));
        assertEquals(List.of(), SOURCES.cite(Set.of()));
        assertEquals(List.of(), SOURCES.cite(Set.of("kidney")));
        assertEquals(List.of("book#0"), SOURCES.citeAnswer("Collapsed lungs", "Is there a pneumothorax?"));
        // a bare yes/no is attributed through the question's words
        assertEquals(List.of("book#0", "r1"), SOURCES.citeAnswer("Yes.", "Is there a pneumothorax?"));
        assertEquals(List.of("wiki#0"), SOURCES.citeAnswer("effusion", "Is there a pneumothorax?"));
    }

    @Test
    void supportSumsTheScoresOfTheCitedSources() {
        assertEquals(1.0f, SOURCES.support(List.of("book#0", "r1", "unknown")));
        assertEquals(1.5f, SOURCES.support(List.of("r1", "wiki#0", "book#0")));
        assertEquals(0f, SOURCES.support(List.of()));
    }
}

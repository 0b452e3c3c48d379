package io.heterorag.model.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;

/** The method's prompt text, exactly, and which evidence goes first when it does not fit. */
class RagPromptTest {

    static final RagPrompt FULL = new RagPrompt("OPEN_VQA", "  What is seen?\n", List.of(),
            List.of("Pneumothorax: air in the\npleural space.", "Effusion: fluid."), List.of("Right pneumothorax.", "Normal chest."));

    @Test
    void theFullPromptListsTheTaskTheDocumentsTheReportsAndTheQuestion() {
        assertEquals("""
                Answer the question briefly.
                Retrieved Contents:
                [1] Pneumothorax: air in the pleural space.
                [2] Effusion: fluid.
                Reference Reports (for reference only):
                [R1] Right pneumothorax.
                [R2] Normal chest.
                Question: What is seen?
                Answer:""", FULL.render());
        assertEquals("""
                Answer the question briefly.
                Retrieved Contents:
                [1] Pneumothorax: air in the pleural space.
                Question: What is seen?
                Answer:""", FULL.render(1, 0));
    }

    @Test
    void eachTaskHasItsInstructionAndAReportNeedsNoQuestion() {
        assertEquals("Answer the question with one of: yes, no.\nQuestion: Is it?\nAnswer:",
                new RagPrompt("CLOSED_VQA", "Is it?", List.of(), List.of(), List.of()).render());
        assertEquals("Answer the question with one of: left, right.\nQuestion: Which side?\nAnswer:",
                new RagPrompt("closed_vqa", "Which side?", List.of("left", "right"), List.of(), List.of()).render());
        assertEquals("Write the findings of the report for this image.\nAnswer:",
                new RagPrompt("report_generation", null, List.of(), List.of(), List.of()).render());
    }

    @Test
    void anItemIsClippedAtFourHundredCharacters() {
        String exact = "a".repeat(RagPrompt.MAX_ITEM_CHARS);
        String longer = "b".repeat(RagPrompt.MAX_ITEM_CHARS + 1);
        RagPrompt p = new RagPrompt("open_vqa", "", List.of(), List.of(exact), List.of(longer));
        assertEquals("Answer the question briefly.\nRetrieved Contents:\n[1] " + exact + "\nReference Reports (for reference only):\n[R1] "
                + "b".repeat(RagPrompt.MAX_ITEM_CHARS) + "…\nAnswer:", p.render());
    }

    @Test
    void fittingDropsReportsFirstThenDocumentsFromTheBottom() {
        // the budget counts characters here
        int full = FULL.render().length();
        assertEquals(new RagPrompt.Fitted(FULL.render(), 2, 2, 0), FULL.fit(String::length, full));
        assertEquals(new RagPrompt.Fitted(FULL.render(2, 1), 2, 1, 1), FULL.fit(String::length, full - 1));
        int twoDocs = FULL.render(2, 0).length();
        assertEquals(new RagPrompt.Fitted(FULL.render(2, 0), 2, 0, 2), FULL.fit(String::length, twoDocs));
        assertEquals(new RagPrompt.Fitted(FULL.render(1, 0), 1, 0, 3), FULL.fit(String::length, twoDocs - 1));
        // even the bare prompt is over: returned as it is, everything dropped
        assertEquals(new RagPrompt.Fitted(FULL.render(0, 0), 0, 0, 4), FULL.fit(String::length, 1));

        RagPrompt.Fitted f = FULL.fit(String::length, FULL.render(1, 1).length() + 1);
        assertEquals(List.of("d1", "r1"), RagPrompt.kept(List.of("d1", "d2"), List.of("r1", "r2"), new RagPrompt.Fitted("", 1, 1, 2)));
        assertEquals(List.of("d1", "d2"), RagPrompt.kept(List.of("d1", "d2"), List.of("r1", "r2"), f));
    }
}

package io.heterorag.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import io.heterorag.model.generation.TaggedQueries;
import io.heterorag.model.generation.TaggedQueryGrammar;
import org.junit.jupiter.api.Test;

class MqgExamplesTest {

    @Test
    void candidatesAreTheQuestionsTermsFirstThenEachReportTermAddedAllInPromptOrder() {
        List<String> q = List.of("fever", "headache", "weakness", "seizure", "vision", "changes");
        List<String> r = List.of("enhancing", "ring-like", "lesion");
        List<String> c = MqgExamples.candidates(q, r, 16);
        assertEquals("fever headache weakness seizure vision changes", c.get(0), "the default first: " + c);
        assertEquals(List.of("fever headache weakness seizure vision changes enhancing", "fever headache weakness seizure vision changes ring",
                "fever headache weakness seizure vision changes like", "fever headache weakness seizure vision changes lesion",
                "fever headache weakness seizure vision changes enhancing ring", "enhancing ring like lesion"), c.subList(1, c.size()),
                "each report term (hyphens split) added, then the first two, then the reports' terms alone");
        for (String cand : c) {
            // every candidate can be a target the grammar admits, also when copying the prompt's words
            String tagged = TaggedQueries.render(List.of(new TaggedQueries.Query("book", cand)));
            assertTrue(TaggedQueryGrammar.DEFAULT.accepts(tagged), cand);
            assertTrue(TaggedQueryGrammar.DEFAULT.copying(TaggedQueryGrammar.promptWords(String.join(" ", q), List.of(String.join(" ", r))))
                    .accepts(tagged), cand);
        }
    }

    @Test
    void aLongQuestionKeepsItsFirstTermsSoThatAReportTermStillFitsTheWordBound() {
        List<String> q = List.of("a1", "a2", "a3", "a4", "a5");
        List<String> c = MqgExamples.candidates(q, List.of("r1", "r2"), 4);
        assertEquals(List.of("a1 a2 a3 a4", "a1 a2 a3 r1", "a1 a2 a3 r2", "a1 a2 r1 r2", "r1 r2"), c);
        c.forEach(cand -> assertTrue(cand.split(" ").length <= 4, cand));
    }

    @Test
    void withoutReportTermsTheOnlyCandidateIsTheQuestionsTerms() {
        assertEquals(List.of("mass lung"), MqgExamples.candidates(List.of("mass", "lung"), List.of(), 8));
        assertEquals(List.of(), MqgExamples.candidates(List.of(), List.of(), 8));
    }

    @Test
    void theAdaptiveCutStopsWhereASimilarityDropsBelowNineTenthsOfThePrevious() {
        assertEquals(3, MqgExamples.adaptiveCut(List.of(0.8f, 0.75f, 0.7f, 0.5f, 0.49f)));
        assertEquals(1, MqgExamples.adaptiveCut(List.of(0.9f, 0.3f)));
        assertEquals(2, MqgExamples.adaptiveCut(List.of(0.9f, 0.85f)));
        assertEquals(1, MqgExamples.adaptiveCut(List.of(0.5f, -0.1f)), "a similarity at or below zero is a drop");
        assertEquals(0, MqgExamples.adaptiveCut(List.of()));
    }
}

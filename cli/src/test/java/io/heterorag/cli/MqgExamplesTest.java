package io.heterorag.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import io.heterorag.model.generation.TaggedQueries;
import io.heterorag.model.generation.TaggedQueryGrammar;
import org.junit.jupiter.api.Test;

class MqgExamplesTest {

    @Test
    void candidatesCombineQuestionAndReportTermsWithinTheWordBound() {
        List<String> q = List.of("headache", "vision", "changes", "seizure", "fever", "weakness");
        List<String> r = List.of("enhancing", "ring-like", "lesion");
        List<String> c = MqgExamples.candidates(q, r, 8);
        assertEquals("headache vision changes seizure fever weakness", c.get(0), "the question's terms come first");
        assertTrue(c.contains("headache vision changes seizure"));
        assertTrue(c.contains("headache vision changes seizure fever weakness enhancing ring"), "cut to 8 words, hyphens split: " + c);
        assertTrue(c.contains("enhancing ring like lesion"), "the reports' terms alone: " + c);
        assertEquals(c.size(), c.stream().distinct().count());
        for (String cand : c) {
            assertTrue(cand.split(" ").length <= 8, cand);
            // every candidate can be a target the grammar admits
            assertTrue(TaggedQueryGrammar.DEFAULT.accepts(TaggedQueries.render(List.of(new TaggedQueries.Query("book", cand)))), cand);
        }
    }

    @Test
    void withoutReportTermsTheCandidatesAreTheQuestionsAlone() {
        assertEquals(List.of("mass lung"), MqgExamples.candidates(List.of("mass", "lung"), List.of(), 8));
    }
}

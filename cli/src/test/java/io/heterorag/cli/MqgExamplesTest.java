package io.heterorag.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import io.heterorag.model.generation.TaggedQueries;
import io.heterorag.model.generation.TaggedQueryGrammar;
import org.junit.jupiter.api.Test;

class MqgExamplesTest {

    // "headache" is rarest, then "seizure"; "fever" and "weakness" are common; "vision", "changes" unseen (rarest of all)
    private static final Map<String, Double> IDF = MqgExamples.idf(List.of("fever weakness", "fever weakness seizure", "fever weakness",
            "fever headache", "weakness seizure"));

    @Test
    void idfRanksRareWordsFirst() {
        assertTrue(IDF.get("headache") > IDF.get("seizure") && IDF.get("seizure") > IDF.get("fever"), IDF.toString());
        assertEquals(List.of("vision", "headache", "seizure", "fever"),
                MqgExamples.rarestFirst(List.of("fever", "seizure", "vision", "headache"), IDF));
    }

    @Test
    void candidatesCombineQuestionAndReportTermsRarestFirstWithinTheWordBound() {
        List<String> q = List.of("fever", "headache", "weakness", "seizure", "vision", "changes");
        List<String> r = List.of("enhancing", "ring-like", "lesion");
        List<String> c = MqgExamples.candidates(q, r, IDF, 8);
        assertEquals("vision", c.get(0), "the rarest question term alone first: " + c);
        assertTrue(c.contains("vision changes"), c.toString());
        assertTrue(c.contains("vision changes headache seizure"), "the rarest four: " + c);
        assertTrue(c.contains("vision changes headache seizure fever weakness"), "all six, rarest first: " + c);
        assertTrue(c.contains("headache fever weakness seizure") == false && c.contains("headache seizure fever weakness"),
                "the first four, rewritten rarest first: " + c);
        assertTrue(c.contains("enhancing ring like lesion"), "the reports' terms alone, hyphens split: " + c);
        assertTrue(c.contains("vision changes enhancing") && c.contains("vision changes lesion"), "each report term with the rarest two: " + c);
        assertEquals(c.size(), c.stream().distinct().count());
        for (String cand : c) {
            assertTrue(cand.split(" ").length <= 8, cand);
            // every candidate can be a target the grammar admits, also when copying the prompt's words
            String tagged = TaggedQueries.render(List.of(new TaggedQueries.Query("book", cand)));
            assertTrue(TaggedQueryGrammar.DEFAULT.accepts(tagged), cand);
            assertTrue(TaggedQueryGrammar.DEFAULT.copying(TaggedQueryGrammar.promptWords(String.join(" ", q), List.of(String.join(" ", r))))
                    .accepts(tagged), cand);
        }
    }

    @Test
    void withoutReportTermsTheCandidatesAreTheQuestionsAlone() {
        assertEquals(List.of("lung", "lung mass"), MqgExamples.candidates(List.of("mass", "lung"), List.of(), Map.of("lung", 3.0, "mass", 2.0), 8));
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

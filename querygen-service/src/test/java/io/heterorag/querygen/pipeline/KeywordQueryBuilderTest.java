package io.heterorag.querygen.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import io.heterorag.model.generation.QueryTerms;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.CorpusQuery;
import org.junit.jupiter.api.Test;

class KeywordQueryBuilderTest {

    private final KeywordQueryBuilder builder = new KeywordQueryBuilder();

    @Test
    void keepsQuestionContentWordsAndTermsSharedByReports() {
        KeywordQueryBuilder.Queries q = builder.build("58 yo man with neck pain. What is the most likely diagnosis?",
                List.of("Well-marginated mass in the left lung with popcorn calcification.",
                        "Solid lung mass with calcification.",
                        "Unrelated appendix."),
                Set.of());
        CorpusQuery book = q.queries().stream().filter(x -> x.getCorpus() == Corpus.BOOK).findFirst().orElseThrow();
        assertEquals("neck pain calcification lung mass", book.getText());
        assertEquals(4, q.queries().stream().filter(x -> x.getCorpus() != Corpus.GRAPH).count(), "at most 4 unstructured");
        CorpusQuery graph = q.queries().stream().filter(x -> x.getCorpus() == Corpus.GRAPH).findFirst().orElseThrow();
        assertEquals("calcification,related_to", graph.getText());
        assertTrue(q.tagged().startsWith("<research>neck pain calcification lung mass</research> <wiki>"), q.tagged());
        assertTrue(q.tagged().endsWith("<graph>calcification,related_to</graph>"), q.tagged());
    }

    @Test
    void withNoReportTermsTheQueryIsTheQuestionsTermsAlone() {
        KeywordQueryBuilder.Queries q = new KeywordQueryBuilder(0).build("58 yo man with neck pain. What is the most likely diagnosis?",
                List.of("Solid lung mass with calcification.", "Lung mass with calcification."), EnumSet.of(Corpus.BOOK, Corpus.GRAPH));
        assertEquals(List.of(CorpusQuery.newBuilder().setCorpus(Corpus.BOOK).setText("neck pain").build(),
                CorpusQuery.newBuilder().setCorpus(Corpus.GRAPH).setText("pain,related_to").build()), q.queries());
        assertEquals("calcification lung", new KeywordQueryBuilder(2).build("What is it?",
                List.of("Solid lung mass with calcification.", "Lung mass with calcification."), EnumSet.of(Corpus.BOOK)).queries().get(0).getText(),
                "at most that many");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new KeywordQueryBuilder(-1));
        assertTrue(e.getMessage().contains("heterorag.querygen.report-terms"), e.getMessage());
    }

    @Test
    void disabledCorporaGetEmptyTags() {
        KeywordQueryBuilder.Queries q = builder.build("Hamartoma of the lung?", List.of(), EnumSet.of(Corpus.BOOK));
        assertEquals(1, q.queries().size());
        assertEquals("<research></research> <wiki></wiki> <book>hamartoma lung</book> <guideline></guideline> <graph></graph>",
                q.tagged());
    }

    @Test
    void aSingleReportLendsItsMostFrequentTerms() {
        KeywordQueryBuilder.Queries q = builder.build("What is the most likely diagnosis?",
                List.of("Cystic mass in the pancreas; the cystic mass has septations."), EnumSet.of(Corpus.BOOK));
        assertEquals("cystic mass pancreas septations", q.queries().get(0).getText());
    }

    @Test
    void nothingToSearchForGivesNoQueries() {
        assertTrue(builder.build("What is it?", List.of(), Set.of()).queries().isEmpty());
    }

    @Test
    void withoutSharedTermsTheGraphQueryUsesTheQuestionsLastTerm() {
        KeywordQueryBuilder.Queries q = builder.build("Hamartoma of the lung with calcification?", List.of(), EnumSet.of(Corpus.GRAPH));
        assertEquals(List.of(CorpusQuery.newBuilder().setCorpus(Corpus.GRAPH).setText("calcification,related_to").build()), q.queries());
    }

    @Test
    void sharedTermsOfEqualSpreadAreOrderedByFrequencyThenAlphabetically() {
        // every term is in both reports; "nodule" 3 times, "opacity" 2 times, "apex" and "base" once
        List<String> reports = List.of("nodule nodule opacity apex base", "nodule opacity base apex");
        // tf: nodule 3, opacity 2, apex 2, base 2 -> nodule, then apex, base, opacity alphabetically
        assertEquals(List.of("nodule", "apex", "base", "opacity"), QueryTerms.sharedTerms(reports, Set.of(), 6));
        // spread first: apex (3 reports, 3 times) before mass (2 reports, 5 times); cyst is excluded
        assertEquals(List.of("apex", "mass"),
                QueryTerms.sharedTerms(List.of("mass mass mass mass apex", "apex mass cyst cyst", "apex cyst"), Set.of("cyst"), 6));
        // at most REPORT_TERMS (6) terms, excluded terms never
        assertEquals(List.of("aaa", "bbb", "ccc", "ddd", "eee", "fff"),
                QueryTerms.sharedTerms(List.of("aaa bbb ccc ddd eee fff ggg zzz", "zzz aaa bbb ccc ddd eee fff ggg"), Set.of("zzz"), 6));
    }

    @Test
    void termsHaveAtLeastThreeCharactersAndAreNotStopWordsOrNumbers() {
        // "ct" (2 characters) goes, "ear" (3) stays; "2024" is a number, "t2-weighted" keeps its hyphen, "-mass-" loses its own
        assertEquals(List.of("ear", "t2-weighted", "mass"), QueryTerms.terms("CT of the ear: 2024 T2-weighted -mass-"));
    }
}

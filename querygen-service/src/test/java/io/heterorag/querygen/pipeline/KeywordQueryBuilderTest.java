package io.heterorag.querygen.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

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
}

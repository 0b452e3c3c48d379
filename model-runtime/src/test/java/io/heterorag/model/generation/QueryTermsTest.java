package io.heterorag.model.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** The term rules the rule builder and the MQG's training data share. */
class QueryTermsTest {

    @Test
    void termsHaveAtLeastThreeCharactersAndAreNotStopWordsOrNumbers() {
        // "ct" (2 characters) goes, "ear" (3) stays; "2024" is a number, "t2-weighted" keeps its hyphen, "-mass-" loses its own
        assertEquals(List.of("ear", "t2-weighted", "mass"), QueryTerms.terms("CT of the ear: 2024 T2-weighted -mass-"));
        assertEquals(List.of("mass", "mass"), QueryTerms.terms("Mass, mass; the history"), "repeats kept, stop words gone");
        assertEquals(List.of("mass", "liver"), QueryTerms.questionTerms("Mass in the liver? A mass."), "each once, in order");
    }

    @Test
    void sharedTermsAreSpreadFirstThenFrequentThenAlphabeticalWithinTheLimit() {
        // every term is in both reports; tf: nodule 3, opacity 2, apex 2, base 2 -> nodule, then apex, base, opacity
        assertEquals(List.of("nodule", "apex", "base", "opacity"),
                QueryTerms.sharedTerms(List.of("nodule nodule opacity apex base", "nodule opacity base apex"), Set.of(), 6));
        // spread first: apex (3 reports) before mass (2 reports, 5 times); cyst is excluded
        assertEquals(List.of("apex", "mass"),
                QueryTerms.sharedTerms(List.of("mass mass mass mass apex", "apex mass cyst cyst", "apex cyst"), Set.of("cyst"), 6));
        assertEquals(List.of("aaa", "bbb"),
                QueryTerms.sharedTerms(List.of("aaa bbb ccc ddd", "ddd ccc bbb aaa"), Set.of("ccc", "ddd"), 2), "the limit");
        // a term in one report of two is not shared; with one report kept, its terms are
        assertEquals(List.of(), QueryTerms.sharedTerms(List.of("alpha", "beta"), Set.of(), 6));
        assertEquals(List.of("alpha", "beta"), QueryTerms.sharedTerms(List.of("beta alpha alpha"), Set.of(), 6));
        assertEquals(List.of(), QueryTerms.sharedTerms(List.of(), Set.of(), 6));
    }
}

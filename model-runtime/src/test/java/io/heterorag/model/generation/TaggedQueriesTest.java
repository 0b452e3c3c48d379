package io.heterorag.model.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class TaggedQueriesTest {

    @Test
    void readsDecodedWordPieceTextWithSpacesAroundTheSyntax() {
        List<TaggedQueries.Query> q = TaggedQueries.parse(" < research > lung   mass < / research >< book >nodule< /book><graph> mass , is a </graph>");
        assertEquals(List.of(new TaggedQueries.Query("research", "lung mass"), new TaggedQueries.Query("book", "nodule"),
                new TaggedQueries.Query("graph", "mass,is a")), q);
    }

    @Test
    void anEmptyTagSkipsItsCorpus() {
        assertEquals(List.of(new TaggedQueries.Query("wiki", "x")), TaggedQueries.parse("<research></research> <wiki>x</wiki>"));
        assertTrue(TaggedQueries.parse("  ").isEmpty());
    }

    @Test
    void refusesWhatIsNotTheGrammarNamingWhy() {
        assertEquals("unknown tag <pubmed>", assertThrows(IllegalArgumentException.class, () -> TaggedQueries.parse("<pubmed>x</pubmed>")).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TaggedQueries.parse("<wiki>x</wiki><research>y</research>"))
                .getMessage().contains("out of order"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TaggedQueries.parse("<wiki>x")).getMessage().contains("not closed"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TaggedQueries.parse("mass lesion")).getMessage().contains("opening tag"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TaggedQueries.parse("<graph>mass</graph>")).getMessage().contains("term,relation"));
        assertThrows(IllegalArgumentException.class, () -> TaggedQueries.parse("<wiki>x</wiki> trailing"));
    }

    @Test
    void renderIsCanonicalAndParsesBack() {
        List<TaggedQueries.Query> q = List.of(new TaggedQueries.Query("graph", "mass,is a"), new TaggedQueries.Query("research", "lung mass"));
        String s = TaggedQueries.render(q);
        assertEquals("<research>lung mass</research><graph>mass,is a</graph>", s);
        assertEquals(List.of(q.get(1), q.get(0)), TaggedQueries.parse(s));
        assertTrue(TaggedQueryGrammar.DEFAULT.accepts(s));
    }
}

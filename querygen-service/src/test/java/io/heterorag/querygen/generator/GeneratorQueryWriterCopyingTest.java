package io.heterorag.querygen.generator;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import io.heterorag.model.generation.TaggedQueryGrammar;
import org.junit.jupiter.api.Test;

/** The served grammar copies the words of the prompt the model reads: the question and the reports kept. */
class GeneratorQueryWriterCopyingTest {

    @Test
    void queriesMayUseOnlyTheQuestionsAndTheReportsWords() {
        TaggedQueryGrammar g = GeneratorQueryWriter.copying(TaggedQueryGrammar.DEFAULT, "Headache and fever for 3 days?",
                List.of("Ring-enhancing lesion."));
        assertTrue(g.accepts("<book>headache ring enhancing</book>"));
        assertTrue(g.accepts("<wiki>lesion fever</wiki>"));
        assertFalse(g.accepts("<book>glioblastoma</book>"), "not in the prompt");
        assertFalse(g.accepts("<book>and</book>"), "a stop word is not a query word");
    }

    @Test
    void aPromptWithoutContentWordsIsNotCopied() {
        TaggedQueryGrammar g = GeneratorQueryWriter.copying(TaggedQueryGrammar.DEFAULT, "What is it?", List.of());
        assertTrue(g.accepts("<book>glioblastoma</book>"));
    }
}

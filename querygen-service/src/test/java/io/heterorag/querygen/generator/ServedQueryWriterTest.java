package io.heterorag.querygen.generator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

import io.heterorag.model.generation.DecodingOptions;
import io.heterorag.model.generation.Generation;
import io.heterorag.model.generation.GenerationInput;
import io.heterorag.model.generation.Generator;
import io.heterorag.model.generation.TaggedQueryGrammar;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.CorpusQuery;
import io.heterorag.proto.v1.GenerateQueriesResponse;
import io.heterorag.proto.v1.Image;
import io.heterorag.querygen.pipeline.KeywordQueryBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

/** The parser and the fallback: a generator's output that cannot be used goes to the rule builder, named and counted. */
class ServedQueryWriterTest {

    /** A generator that writes a fixed text (a unit-test fake: the constraint itself is tested on real ONNX models). */
    record Fixed(String text) implements Generator {
        public String id() {
            return "fixed@1";
        }

        public String family() {
            return "llava";
        }

        public int contextLength() {
            return 200;
        }

        public int countTokens(String t) {
            return t.split("\\s+").length;
        }

        public int overheadTokens(GenerationInput input) {
            return 1;
        }

        public Generation generate(GenerationInput input, DecodingOptions options, Consumer<String> onText) {
            assertTrue(options.constraint() instanceof TaggedQueryGrammar, "decoded under the grammar");
            return new Generation(text, new int[] {1, 2}, 10, "eos", 0, 0);
        }

        public double logProb(GenerationInput input, String response) {
            return 0;
        }

        public void close() {
        }
    }

    private static ServedQueryWriter serving(String output, SimpleMeterRegistry registry) {
        return new ServedQueryWriter(b -> new GeneratorQueryWriter(new Fixed(output), 40, TaggedQueryGrammar.DEFAULT), registry,
                Optional.of(Path.of("fixed")));
    }

    @Test
    void theGeneratorsTagsBecomeQueriesAndAMissingTagSkipsItsCorpus() {
        GenerateQueriesResponse r = serving("< research > lung mass < / research ><graph>mass , is a</graph>", new SimpleMeterRegistry())
                .generate("what is the mass?", Image.getDefaultInstance(), List.of(), Set.of());
        assertEquals("fixed@1", r.getGenerator());
        assertEquals(List.of(CorpusQuery.newBuilder().setCorpus(Corpus.RESEARCH).setText("lung mass").build(),
                CorpusQuery.newBuilder().setCorpus(Corpus.GRAPH).setText("mass,is a").build()), r.getQueriesList());
        assertEquals(List.of(Corpus.WIKI, Corpus.BOOK, Corpus.GUIDELINE), r.getSkippedCorporaList());
        assertEquals("<research>lung mass</research><graph>mass,is a</graph>", r.getTagged());
        assertEquals("", r.getFallbackReason());
    }

    @Test
    void onlyEnabledCorporaAreKeptAndSkippedIsWithinThem() {
        GenerateQueriesResponse r = serving("<research>a</research><wiki>b</wiki>", new SimpleMeterRegistry())
                .generate("q words", Image.getDefaultInstance(), List.of(), EnumSet.of(Corpus.WIKI, Corpus.BOOK));
        assertEquals(List.of(CorpusQuery.newBuilder().setCorpus(Corpus.WIKI).setText("b").build()), r.getQueriesList());
        assertEquals(List.of(Corpus.BOOK), r.getSkippedCorporaList());
    }

    @Test
    void unparsableOutputFallsBackToTheRuleBuilderNamedAndCounted() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        GenerateQueriesResponse r = serving("<wiki>x</wiki><research>y</research>", registry)
                .generate("Is there a pulmonary hamartoma?", Image.getDefaultInstance(), List.of(), Set.of());
        assertEquals(KeywordQueryBuilder.ID, r.getGenerator());
        assertTrue(r.getFallbackReason().startsWith("unparsable: tag <research> out of order"), r.getFallbackReason());
        assertTrue(r.getTagged().contains("<book>pulmonary hamartoma</book>"), r.getTagged());
        assertEquals(1.0, registry.counter("heterorag.querygen.fallbacks", "reason", "unparsable").count());
    }

    @Test
    void noQueryForAnEnabledCorpusFallsBackAsEmpty() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        GenerateQueriesResponse r = serving("<research>a</research>", registry)
                .generate("pulmonary hamartoma", Image.getDefaultInstance(), List.of(), EnumSet.of(Corpus.BOOK));
        assertEquals(KeywordQueryBuilder.ID, r.getGenerator());
        assertEquals("empty: no query for an enabled corpus", r.getFallbackReason());
        assertEquals(1.0, registry.counter("heterorag.querygen.fallbacks", "reason", "empty").count());
    }

    @Test
    void aQuestionTooLongForTheContextFallsBack() {
        GenerateQueriesResponse r = serving("<research>a</research>", new SimpleMeterRegistry())
                .generate("word ".repeat(300), Image.getDefaultInstance(), List.of("a report"), Set.of());
        assertTrue(r.getFallbackReason().startsWith("context: "), r.getFallbackReason());
    }

    @Test
    void withoutABundleTheRuleBuilderServesWithNoFallbackReason() {
        ServedQueryWriter w = new ServedQueryWriter(b -> {
            throw new AssertionError("nothing to load");
        }, new SimpleMeterRegistry(), Optional.empty());
        GenerateQueriesResponse r = w.generate("pulmonary hamartoma", Image.getDefaultInstance(), List.of(), Set.of());
        assertEquals(KeywordQueryBuilder.ID, r.getGenerator());
        assertEquals("", r.getFallbackReason());
        assertTrue(r.getSkippedCorporaList().isEmpty());
    }

    @Test
    void aBudgetBelowTheShortestOutputIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new GeneratorQueryWriter(new Fixed(""), 1, TaggedQueryGrammar.DEFAULT));
    }
}

package io.heterorag.querygen.generator;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import io.heterorag.model.generation.DecodingOptions;
import io.heterorag.model.generation.Generation;
import io.heterorag.model.generation.GenerationInput;
import io.heterorag.model.generation.Generator;
import io.heterorag.model.generation.RagPrompt;
import io.heterorag.model.generation.TaggedQueries;
import io.heterorag.model.generation.TaggedQueryGrammar;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.CorpusQuery;

/**
 * The Multi-corpora Query Generator on a generator model (HeteroRAG inference step 2): the model reads
 * the question, the image (when the request has one) and the retrieved reports, fitted to its context
 * ({@link RagPrompt}, task {@value #TASK}: reports are dropped first, the question is never cut), and
 * writes the tagged queries greedily under {@link TaggedQueryGrammar}, copying every query word from
 * the prompt ({@link TaggedQueryGrammar#copying}), so its output always parses;
 * each tag becomes one {@link CorpusQuery} of its corpus, a missing tag skips the corpus. When its
 * queries cannot be used (see {@link Fallback}) the caller falls back to the rule-based builder.
 */
public final class GeneratorQueryWriter implements AutoCloseable {

    public static final String TASK = "query_generation";

    /** Why the generator's own queries are not used; {@code reason} is a short code for the metric. */
    public static final class Fallback extends Exception {
        private final String reason;

        Fallback(String reason, String detail) {
            super(reason + ": " + detail, null, false, false);
            this.reason = reason;
        }

        /** "context", "constraint", "unparsable", "empty" or "error". */
        public String reason() {
            return reason;
        }
    }

    /** The queries (of enabled corpora, tag order) and their tagged form as written. */
    public record Written(List<CorpusQuery> queries, String tagged, int promptTokens, int generatedTokens) {
    }

    private final Generator generator;
    private final int maxNewTokens;
    private final TaggedQueryGrammar grammar;

    public GeneratorQueryWriter(Generator generator, int maxNewTokens, TaggedQueryGrammar grammar) {
        if (maxNewTokens < 2) {
            // a budget the generator's vocabulary cannot fit the grammar into is refused per request (fallback "constraint")
            throw new IllegalArgumentException("max new tokens " + maxNewTokens + " cannot hold a tagged output and its eos");
        }
        this.generator = generator;
        this.maxNewTokens = maxNewTokens;
        this.grammar = grammar;
    }

    public String id() {
        return generator.id();
    }

    /** @param enabled corpora that may be queried (all when empty) */
    public Written write(String question, BufferedImage image, List<String> reports, Set<Corpus> enabled) throws Fallback {
        RagPrompt prompt = new RagPrompt(TASK, question, List.of(), List.of(), reports);
        int overhead = generator.overheadTokens(new GenerationInput(image, ""));
        int budget = generator.contextLength() - overhead - maxNewTokens;
        RagPrompt.Fitted fitted = prompt.fit(generator::countTokens, budget);
        int bare = generator.countTokens(fitted.text());
        if (bare > budget) {
            throw new Fallback("context", "the question takes " + bare + " tokens, " + Math.max(0, budget) + " are left for it");
        }
        Generation g;
        try {
            // only enabled corpora's tags are admitted: the model cannot spend its output on a corpus that is not searched
            TaggedQueryGrammar g0 = grammar.only(enabled.stream().map(c -> c.name().toLowerCase(Locale.ROOT)).toList());
            // and every query word is copied from the prompt the model reads (the question and the reports kept)
            g0 = copying(g0, question, reports.subList(0, fitted.keptReports()));
            g = generator.generate(new GenerationInput(image, fitted.text()), DecodingOptions.greedy(maxNewTokens).withConstraint(g0), null);
        } catch (IllegalArgumentException e) {
            throw new Fallback("constraint", e.getMessage());
        } catch (RuntimeException e) {
            throw new Fallback("error", e.getMessage());
        }
        return read(g.text(), enabled, g.promptTokens(), g.tokenIds().length);
    }

    /** The grammar restricted to the prompt's words; unchanged when the prompt has none (a question of stop words only). */
    static TaggedQueryGrammar copying(TaggedQueryGrammar grammar, String question, List<String> reports) {
        Set<String> words = TaggedQueryGrammar.promptWords(question, reports);
        return words.isEmpty() ? grammar : grammar.copying(words);
    }

    /** The queries of a tagged output, kept for the enabled corpora. */
    static Written read(String text, Set<Corpus> enabled, int promptTokens, int generatedTokens) throws Fallback {
        List<TaggedQueries.Query> parsed;
        try {
            parsed = TaggedQueries.parse(text);
        } catch (IllegalArgumentException e) {
            throw new Fallback("unparsable", e.getMessage());
        }
        List<TaggedQueries.Query> kept = new ArrayList<>();
        List<CorpusQuery> queries = new ArrayList<>();
        for (TaggedQueries.Query q : parsed) {
            Corpus c = corpus(q.tag());
            if (enabled.isEmpty() || enabled.contains(c)) {
                kept.add(q);
                queries.add(CorpusQuery.newBuilder().setCorpus(c).setText(q.text()).build());
            }
        }
        if (queries.isEmpty()) {
            throw new Fallback("empty", parsed.isEmpty() ? "no query written" : "no query for an enabled corpus");
        }
        return new Written(queries, TaggedQueries.render(kept), promptTokens, generatedTokens);
    }

    static Corpus corpus(String tag) {
        return Corpus.valueOf(tag.toUpperCase(Locale.ROOT));
    }

    @Override
    public void close() {
        generator.close();
    }
}

package io.heterorag.querygen.pipeline;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import io.heterorag.model.generation.QueryTerms;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.CorpusQuery;

/**
 * The default query generator until an MQG model is trained: a deterministic, rule-based builder,
 * NOT a language model. It keeps the question's content words and adds the terms that at least two
 * retrieved reports share (what the similar cases agree on), then writes one query per enabled
 * unstructured corpus (at most 4) and a "term,relation" graph query for the strongest term. With a
 * single report (an adaptive cut can keep one), that report's most frequent terms are used.
 */
public final class KeywordQueryBuilder {

    public static final String ID = "keyword-query-builder@1";

    static final int MAX_UNSTRUCTURED = 4;
    static final int REPORT_TERMS = 6;
    static final List<Corpus> UNSTRUCTURED = List.of(Corpus.BOOK, Corpus.RESEARCH, Corpus.WIKI, Corpus.GUIDELINE);

    private final int reportTerms;

    public KeywordQueryBuilder() {
        this(REPORT_TERMS);
    }

    /** @param reportTerms shared report terms added at most (0: the question's terms only) */
    public KeywordQueryBuilder(int reportTerms) {
        if (reportTerms < 0) {
            throw new IllegalArgumentException("heterorag.querygen.report-terms must be 0 or more, got " + reportTerms);
        }
        this.reportTerms = reportTerms;
    }

    /** The queries and their tagged form. */
    public record Queries(List<CorpusQuery> queries, String tagged) {
    }

    public Queries build(String question, List<String> reportTexts, Set<Corpus> enabled) {
        Set<Corpus> corpora = enabled.isEmpty() ? EnumSet.complementOf(EnumSet.of(Corpus.CORPUS_UNSPECIFIED, Corpus.UNRECOGNIZED)) : enabled;
        List<String> questionTerms = QueryTerms.questionTerms(question);
        List<String> shared = QueryTerms.sharedTerms(reportTexts, new HashSet<>(questionTerms), reportTerms);
        List<String> all = new ArrayList<>(questionTerms);
        all.addAll(shared);
        List<CorpusQuery> queries = new ArrayList<>();
        if (!all.isEmpty()) {
            String text = String.join(" ", all);
            int written = 0;
            for (Corpus c : UNSTRUCTURED) {
                if (corpora.contains(c) && written < MAX_UNSTRUCTURED) {
                    queries.add(CorpusQuery.newBuilder().setCorpus(c).setText(text).build());
                    written++;
                }
            }
            if (corpora.contains(Corpus.GRAPH)) {
                String term = shared.isEmpty() ? questionTerms.get(questionTerms.size() - 1) : shared.get(0);
                queries.add(CorpusQuery.newBuilder().setCorpus(Corpus.GRAPH).setText(term + ",related_to").build());
            }
        }
        return new Queries(queries, tagged(queries));
    }

    /** The method's tagged form; an empty tag means "do not search that corpus". */
    static String tagged(List<CorpusQuery> queries) {
        StringBuilder sb = new StringBuilder();
        for (Corpus c : List.of(Corpus.RESEARCH, Corpus.WIKI, Corpus.BOOK, Corpus.GUIDELINE, Corpus.GRAPH)) {
            String tag = c.name().toLowerCase(Locale.ROOT);
            String text = queries.stream().filter(q -> q.getCorpus() == c).map(CorpusQuery::getText).findFirst().orElse("");
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append('<').append(tag).append('>').append(text).append("</").append(tag).append('>');
        }
        return sb.toString();
    }
}

package io.heterorag.retrieval.store;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;

import io.heterorag.proto.v1.Corpus;
import io.heterorag.store.VectorCollection;
import io.quarkus.logging.Log;
import io.quarkus.runtime.Startup;

/**
 * The text corpora: one collection per corpus on the configured backend ("corpus-book",
 * …; "corpus-graph" reserved). The report repositories are in {@link ReportRepositories}.
 */
@Singleton
@Startup
public class VectorStore {

    private final Map<Corpus, VectorCollection> corpora = new EnumMap<>(Corpus.class);

    public VectorStore(CollectionFactory collections) {
        for (Corpus c : Corpus.values()) {
            if (c != Corpus.CORPUS_UNSPECIFIED && c != Corpus.UNRECOGNIZED) {
                String name = corpusName(c);
                corpora.put(c, collections.open(name));
            }
        }
        Log.infof("corpora: %s", corpora.values().stream().map(VectorCollection::name).toList());
    }

    public static String corpusName(Corpus c) {
        return "corpus-" + c.name().toLowerCase(Locale.ROOT);
    }

    public VectorCollection corpus(Corpus corpus) {
        VectorCollection c = corpora.get(corpus);
        if (c == null) {
            throw new IllegalArgumentException("unknown corpus " + corpus);
        }
        return c;
    }

    public Map<String, Long> counts() {
        Map<String, Long> out = new LinkedHashMap<>();
        corpora.values().forEach(c -> out.put(c.name(), c.count()));
        return out;
    }

    public boolean isOpen() {
        return corpora.values().stream().allMatch(VectorCollection::isOpen);
    }

    @PreDestroy
    void close() {
        corpora.values().forEach(VectorCollection::close);
    }
}

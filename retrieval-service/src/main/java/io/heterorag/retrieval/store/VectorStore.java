package io.heterorag.retrieval.store;

import java.nio.file.Path;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;

import io.heterorag.proto.v1.Corpus;
import io.heterorag.store.Collection;
import io.quarkus.logging.Log;
import io.quarkus.runtime.Startup;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The embedded vector store of the text corpora: one on-disk collection per corpus ("corpus-book",
 * …; "corpus-graph" reserved). The report repositories are in {@link ReportRepositories}.
 */
@Singleton
@Startup
public class VectorStore {

    private final Map<Corpus, Collection> corpora = new EnumMap<>(Corpus.class);

    public VectorStore(@ConfigProperty(name = "heterorag.retrieval.data-dir", defaultValue = "data/retrieval") Path dataDir) {
        Path root = dataDir.resolve("collections");
        for (Corpus c : Corpus.values()) {
            if (c != Corpus.CORPUS_UNSPECIFIED && c != Corpus.UNRECOGNIZED) {
                String name = corpusName(c);
                corpora.put(c, new Collection(name, root.resolve(name)));
            }
        }
        Log.infof("vector store open at %s: %s", root.toAbsolutePath(), counts());
    }

    public static String corpusName(Corpus c) {
        return "corpus-" + c.name().toLowerCase(Locale.ROOT);
    }

    public Collection corpus(Corpus corpus) {
        Collection c = corpora.get(corpus);
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
        return corpora.values().stream().allMatch(Collection::isOpen);
    }

    @PreDestroy
    void close() {
        corpora.values().forEach(Collection::close);
    }
}

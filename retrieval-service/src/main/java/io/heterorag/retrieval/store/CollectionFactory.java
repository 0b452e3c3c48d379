package io.heterorag.retrieval.store;

import java.nio.file.Path;

import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import io.heterorag.retrieval.config.RetrievalConfig;
import io.heterorag.store.CollectionAliases;
import io.heterorag.store.LuceneAliases;
import io.heterorag.store.LuceneCollection;
import io.heterorag.store.QdrantStore;
import io.heterorag.store.VectorCollection;
import io.quarkus.logging.Log;

/**
 * Opens collections on the configured backend: {@code embedded} (Lucene indexes under the data dir,
 * the default) or {@code qdrant} (a Qdrant server or cluster over gRPC).
 */
@Singleton
public class CollectionFactory {

    private final Path root;
    private final QdrantStore qdrant;

    @Inject
    public CollectionFactory(RetrievalConfig config) {
        this(config.retrieval().dataDir(), config.store().backend(), config.store().qdrant().host(), config.store().qdrant().port(),
                config.store().qdrant().tls(), config.store().qdrant().apiKey().orElse(""), config.store().qdrant().collectionPrefix(),
                config.store().qdrant().hnswM(), config.store().qdrant().hnswEfConstruct(), config.store().qdrant().int8Quantization(),
                config.store().qdrant().shards(), config.store().qdrant().replicas(), config.store().qdrant().upsertBatch(),
                config.store().qdrant().timeoutS());
    }

    /** apiKey: blank for none. */
    public CollectionFactory(Path dataDir, String backend, String host, int port, boolean tls, String apiKey, String prefix, int hnswM,
            int efConstruct, boolean int8, int shards, int replicas, int batch, int timeoutSeconds) {
        this.root = dataDir.resolve("collections");
        this.qdrant = switch (backend) {
            case "embedded" -> null;
            case "qdrant" -> new QdrantStore(new QdrantStore.Settings(host, port, tls, apiKey.trim(), prefix, hnswM, efConstruct,
                    int8, shards, replicas, batch, timeoutSeconds));
            default -> throw new IllegalArgumentException("heterorag.store.backend must be embedded or qdrant, not " + backend);
        };
        Log.infof("vector store backend: %s", qdrant == null ? "embedded at " + root.toAbsolutePath() : "qdrant at " + host + ":" + port);
    }

    /** The named collection ("corpus-book", "reports-radiology@modclip…"), created on first write. */
    public VectorCollection open(String name) {
        return qdrant == null ? new LuceneCollection(name, root.resolve(name)) : qdrant.collection(name);
    }

    /** The store's aliases (which collection serves a repository, which ones each replica reads). */
    public CollectionAliases aliases() {
        return qdrant == null ? new LuceneAliases(root) : qdrant;
    }

    /** Whether collections are this process's Lucene indexes (one process per store) rather than a shared server's. */
    public boolean embedded() {
        return qdrant == null;
    }

    /** Where small local state (which collection serves a repository) is kept, whatever the backend. */
    public Path root() {
        return root;
    }

    @PreDestroy
    void close() {
        if (qdrant != null) {
            qdrant.close();
        }
    }
}

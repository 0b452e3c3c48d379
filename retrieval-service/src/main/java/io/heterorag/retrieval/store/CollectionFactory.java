package io.heterorag.retrieval.store;

import java.nio.file.Path;

import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;

import io.heterorag.store.CollectionAliases;
import io.heterorag.store.LuceneAliases;
import io.heterorag.store.LuceneCollection;
import io.heterorag.store.QdrantStore;
import io.heterorag.store.VectorCollection;
import io.quarkus.logging.Log;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Opens collections on the configured backend: {@code embedded} (Lucene indexes under the data dir,
 * the default) or {@code qdrant} (a Qdrant server or cluster over gRPC).
 */
@Singleton
public class CollectionFactory {

    private final Path root;
    private final QdrantStore qdrant;

    public CollectionFactory(@ConfigProperty(name = "heterorag.retrieval.data-dir", defaultValue = "data/retrieval") Path dataDir,
            @ConfigProperty(name = "heterorag.store.backend", defaultValue = "embedded") String backend,
            @ConfigProperty(name = "heterorag.store.qdrant.host", defaultValue = "localhost") String host,
            @ConfigProperty(name = "heterorag.store.qdrant.port", defaultValue = "6334") int port,
            @ConfigProperty(name = "heterorag.store.qdrant.tls", defaultValue = "false") boolean tls,
            @ConfigProperty(name = "heterorag.store.qdrant.api-key", defaultValue = " ") String apiKey,
            @ConfigProperty(name = "heterorag.store.qdrant.collection-prefix", defaultValue = "heterorag_") String prefix,
            @ConfigProperty(name = "heterorag.store.qdrant.hnsw-m", defaultValue = "16") int hnswM,
            @ConfigProperty(name = "heterorag.store.qdrant.hnsw-ef-construct", defaultValue = "100") int efConstruct,
            @ConfigProperty(name = "heterorag.store.qdrant.int8-quantization", defaultValue = "true") boolean int8,
            @ConfigProperty(name = "heterorag.store.qdrant.shards", defaultValue = "1") int shards,
            @ConfigProperty(name = "heterorag.store.qdrant.replicas", defaultValue = "1") int replicas,
            @ConfigProperty(name = "heterorag.store.qdrant.upsert-batch", defaultValue = "256") int batch,
            @ConfigProperty(name = "heterorag.store.qdrant.timeout-s", defaultValue = "30") int timeoutSeconds) {
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

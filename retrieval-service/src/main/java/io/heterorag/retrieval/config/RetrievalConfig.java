package io.heterorag.retrieval.config;

import java.nio.file.Path;
import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * Everything retrieval-service reads under heterorag.* (Quarkus' own quarkus.* and the Kafka
 * channels' mp.messaging.* keys aside). docs/configuration.md is generated from this interface: the
 * Javadoc of each method is the key's meaning there (ConfigurationDocTest in cli keeps it equal).
 */
@ConfigMapping(prefix = "heterorag")
public interface RetrievalConfig {

    /** heterorag.retrieval.*: the service itself. */
    Retrieval retrieval();

    /** heterorag.models.*: the encoders and the reranker. */
    Models models();

    /** heterorag.store.*: where the vector collections live. */
    Store store();

    interface Retrieval {

        /** Local state: the embedded store's collections, the baseline image bundle, the serving pointers. */
        @WithDefault("data/retrieval")
        Path dataDir();

        /** Reports returned per image when the request's k is 0 (at most 100). */
        @WithDefault("5")
        int reportK();

        /** Corpus entries returned per search when the request's k is 0 (at most 100). */
        @WithDefault("10")
        int corpusK();

        /**
         * HNSW candidates explored per report retrieval (the search's ef; at least k). Split from the
         * former heterorag.retrieval.candidates, which still sets it when this key is not given.
         */
        @WithDefault("${heterorag.retrieval.candidates:50}")
        int reportCandidates();

        /**
         * Entries each list of a corpus search (dense and BM25) holds before fusion, at least k; the dense
         * list explores as many HNSW candidates. Split from the former heterorag.retrieval.candidates,
         * which still sets it when this key is not given.
         */
        @WithDefault("${heterorag.retrieval.candidates:50}")
        int corpusCandidates();

        /**
         * Deprecated: meant both report-candidates and corpus-candidates, and is still the default of
         * each; set those instead (a warning is logged at startup while it is set).
         */
        @Deprecated
        Optional<Integer> candidates();

        /** Adaptive k of report retrieval (requests without fixed_k). */
        AdaptiveK adaptiveK();

        /** Fusion of the dense and BM25 lists of a corpus search. */
        Fusion fusion();

        /** Reranking of fused corpus results by the cross-encoder (heterorag.models.reranker-bundle). */
        Rerank rerank();

        /** Near-duplicate report images at ingest. */
        Dedup dedup();

        /** How documents are cut into chunks at ingest (the method's 1,000 / 200 characters). */
        Ingest ingest();

        /**
         * Names this replica's pins on the store's collections; distinct per process (the chart sets the pod
         * name); default: a random UUID per start.
         */
        @WithDefault("${quarkus.uuid}")
        String replicaId();

        /** How often the store's serving aliases are read, in milliseconds. */
        @WithDefault("1000")
        long aliasPollMs();

        /** Longest query text (SearchCorpus, Embed texts), in characters; longer: INVALID_ARGUMENT. */
        @WithDefault("8192")
        int maxQueryChars();

        /** Largest image of a request, in bytes. */
        @WithDefault("16777216")
        int maxImageBytes();

        /** Most records per Ingest call. */
        @WithDefault("1000")
        int maxIngestRecords();

        /** Longest document text of an ingested record, in characters. */
        @WithDefault("1048576")
        int maxRecordChars();

        /** Longest report text of an ingested record (the same bound as heterorag.querygen.max-report-chars). */
        @WithDefault("32768")
        int maxReportChars();

        /** Longest record id; metadata, titles and graph names may take 16 times as much. */
        @WithDefault("256")
        int maxIdChars();
    }

    interface AdaptiveK {

        /** Cut before the first hit whose similarity falls below this ratio of the previous hit's. */
        @WithDefault("0.9")
        double ratio();

        /** Reports kept whatever the ratio says. */
        @WithDefault("1")
        int min();
    }

    interface Fusion {

        /** zscore (standardised scores, weighted) or rrf (reciprocal rank fusion). */
        @WithDefault("zscore")
        String rule();

        /** BM25's share of the fused score; the dense list has the rest. */
        @WithDefault("0.6")
        double keywordWeight();
    }

    interface Rerank {

        /** Fused documents the cross-encoder scores (at least k). */
        @WithDefault("10")
        int depth();
    }

    interface Dedup {

        /** Bits two 64-bit perceptual hashes may differ by and still count as the same image; -1 keeps every image. */
        @WithDefault("2")
        int maxDistance();
    }

    interface Ingest {

        /** Most characters per document chunk; above 0. */
        @WithDefault("1000")
        int chunkSize();

        /** Characters (whole sentences) a chunk repeats from the previous one; at least 0 and below chunk-size. */
        @WithDefault("200")
        int chunkOverlap();
    }

    interface Models {

        /** cpu, cuda or auto (CUDA where the GPU build of ONNX Runtime and a device are there, else CPU). */
        @WithDefault("auto")
        String executionProvider();

        /** ONNX Runtime intra-op threads per session; 0: its default (one per core). */
        @WithDefault("0")
        int intraOpThreads();

        /** Image encoder bundles per modality; unset: the baseline encoder. */
        ImageBundle imageBundle();

        /** Text encoder bundle directory; unset: MiniLM from its jar. Corpora must be re-ingested after a change. */
        Optional<Path> textBundle();

        /** Cross-encoder bundle directory that reranks corpus search results; unset: the fused order stands. */
        Optional<Path> rerankerBundle();

        /** Concurrent embeddings (query texts, images) batched into one model run. */
        @WithDefault("16")
        int maxBatch();

        /** How long an embedding waits for companions to batch with, in microseconds. */
        @WithDefault("2000")
        long maxWaitMicros();
    }

    interface ImageBundle {

        /** Image encoder bundle directory for radiology; unset: the baseline encoder. */
        Optional<Path> radiology();

        /** Image encoder bundle directory for ophthalmology; unset: the baseline encoder. */
        Optional<Path> ophthalmology();

        /** Image encoder bundle directory for pathology; unset: the baseline encoder. */
        Optional<Path> pathology();
    }

    interface Store {

        /** embedded (Lucene indexes under heterorag.retrieval.data-dir, one process per store) or qdrant (a Qdrant server or cluster). */
        @WithDefault("embedded")
        String backend();

        /** The Qdrant server, read when backend is qdrant. */
        Qdrant qdrant();
    }

    interface Qdrant {

        /** Host of Qdrant's gRPC port. */
        @WithDefault("localhost")
        String host();

        /** Qdrant's gRPC port. */
        @WithDefault("6334")
        int port();

        /** Whether the connection uses TLS. */
        @WithDefault("false")
        boolean tls();

        /** API key sent to Qdrant; unset: none. */
        Optional<String> apiKey();

        /** Prefix of the collection and alias names this release uses. */
        @WithDefault("heterorag_")
        String collectionPrefix();

        /** HNSW graph degree of new collections. */
        @WithDefault("16")
        int hnswM();

        /** HNSW ef at construction of new collections. */
        @WithDefault("100")
        int hnswEfConstruct();

        /** Whether new collections keep int8-quantized vectors (rescored with the originals). */
        @WithDefault("true")
        boolean int8Quantization();

        /** Shards of new collections. */
        @WithDefault("1")
        int shards();

        /** Replicas per shard of new collections. */
        @WithDefault("1")
        int replicas();

        /** Points per upsert call. */
        @WithDefault("256")
        int upsertBatch();

        /** Timeout of each Qdrant call, in seconds. */
        @WithDefault("30")
        int timeoutS();
    }
}

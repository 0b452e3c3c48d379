package io.heterorag.generation.config;

import java.nio.file.Path;
import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * Everything generation-service reads under heterorag.* (Quarkus' own quarkus.*, its gRPC clients
 * quarkus.grpc.clients.* and the Kafka keys aside). docs/configuration.md is generated from this
 * interface: the Javadoc of each method is the key's meaning there (ConfigurationDocTest in cli keeps
 * it equal).
 */
@ConfigMapping(prefix = "heterorag")
public interface GenerationConfig {

    /** heterorag.generation.*: the pipeline, its bounds and its traces. */
    Generation generation();

    /** heterorag.models.*: the generator model. */
    Models models();

    /** heterorag.web.*: the review page's demo images. */
    Web web();

    interface Generation {

        /** A request's deadline when it gives none (options.deadline_ms 0), in milliseconds. */
        @WithDefault("30000")
        long defaultDeadlineMs();

        /** Deadline of each call to retrieval or querygen within the request's own, in milliseconds. */
        @WithDefault("10000")
        long stageDeadlineMs();

        /** Largest image of a request, in bytes; larger: INVALID_ARGUMENT naming this key. */
        @WithDefault("16777216")
        int maxImageBytes();

        /** Entries asked of each corpus search (its k) for each generated query. */
        @WithDefault("10")
        int knowledgeCandidates();

        /** Best entries of each query's search kept as evidence. */
        @WithDefault("2")
        int knowledgePerQuery();

        /** Longest question, in characters. */
        @WithDefault("8192")
        int maxQuestionChars();

        /** Longest request id, in characters. */
        @WithDefault("128")
        int maxRequestIdChars();

        /** Largest options.report_k a request may ask for. */
        @WithDefault("64")
        int maxReportK();

        /** Largest options.deadline_ms a request may ask for, in milliseconds. */
        @WithDefault("600000")
        long maxDeadlineMs();

        /** Requests answered at once by this pod; beyond, RESOURCE_EXHAUSTED at once rather than a queue that ends in timeouts. */
        @WithDefault("32")
        int maxInFlight();

        /** Retries of idempotent calls (reports, queries, searches) on UNAVAILABLE, for the whole request (not per call). */
        @WithDefault("3")
        int retryBudget();

        /** Pause before such a retry, in milliseconds. */
        @WithDefault("50")
        long retryBackoffMs();

        /**
         * Answer budget of open questions and reports when options.max_new_tokens is 0; 0: the bundle's
         * generation_config.json max_new_tokens (128 when it gives none).
         */
        @WithDefault("0")
        int maxNewTokens();

        /** Kafka topic of the traces (read by tuning-service). */
        @WithDefault("heterorag.traces")
        String tracesTopic();

        /** Directory of the on-disk trace buffer: a trace is written there first and deleted once the broker has it. */
        @WithDefault("./data/generation/trace-buffer")
        Path traceBufferDir();

        /** Bound of the trace buffer, in bytes; beyond it traces are dropped, counted and logged by id. */
        @WithDefault("268435456")
        long traceBufferMaxBytes();

        /** How often buffered traces are re-sent while the broker is away, in milliseconds. */
        @WithDefault("5000")
        long traceRetryIntervalMs();
    }

    interface Models {

        /**
         * The answerer: a generator bundle directory (the Hugging Face VLM layout, docs/generator.md) served by
         * ONNX Runtime; unset or empty: the extractive evidence ranker. A generator announced on
         * heterorag.models replaces it.
         */
        Optional<String> generatorBundle();

        /** cpu, cuda or auto (CUDA where the GPU build of ONNX Runtime and a device are there, else CPU). */
        @WithDefault("auto")
        String executionProvider();

        /** ONNX Runtime intra-op threads per session; 0: its default (one per core). */
        @WithDefault("0")
        int intraOpThreads();

        /** Concurrent requests decoded together in one batch; at least 1. */
        @WithDefault("8")
        int generatorMaxBatch();

        /** How long an idle generator waits for companions to batch with, in microseconds. */
        @WithDefault("2000")
        long generatorAdmissionWindowMicros();
    }

    interface Web {

        /** The MedPix 2.0 directory the review page's demo images come from (the launcher passes MEDPIX_DIR). */
        @WithDefault("../shared/data/medpix-2.0")
        String medpixDir();

        /** The MedPix split listed (dev: images the store was not built from). */
        @WithDefault("dev")
        String demoSplit();

        /** Most demo images listed. */
        @WithDefault("60")
        int demoImages();
    }
}

package io.heterorag.retrieval.model;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import ai.onnxruntime.OrtSession;
import io.heterorag.model.image.BaselineImageBundle;
import io.heterorag.model.text.CrossEncoder;
import io.heterorag.model.bundle.ExecutionProviders;
import io.heterorag.model.image.ImageEncoder;
import io.heterorag.model.bundle.MicroBatcher;
import io.heterorag.model.text.TextEncoder;
import io.heterorag.proto.v1.Modality;
import io.heterorag.retrieval.config.RetrievalConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.quarkus.logging.Log;
import io.quarkus.runtime.Startup;

/**
 * The models retrieval-service serves: the text encoder for corpora (all-MiniLM-L6-v2, int8, from its
 * Maven jar) and the image encoder bundles of the report repositories (the configured bundle of a
 * modality, or the untrained baseline thumbnail encoder). ONNX Runtime, on the execution provider
 * chosen by heterorag.models.execution-provider (auto: CUDA where the GPU build and a device are there).
 */
@Singleton
@Startup
public class Models {

    /** Inputs per encoder call when embedding in bulk (ingest, re-index). */
    public static final int BULK_BATCH = 16;

    private final String provider;
    private final int threads;
    private final TextEncoder text;
    private final Path baseline;
    private final Map<Modality, Optional<Path>> configured;
    private final int maxBatch;
    private final long maxWaitMicros;
    private final MicroBatcher<String, float[]> queries;
    private final CrossEncoder reranker;

    @Inject
    public Models(RetrievalConfig config, MeterRegistry metrics) {
        this(config.retrieval().dataDir(), config.models().intraOpThreads(), config.models().executionProvider(), metrics,
                config.models().imageBundle().radiology(), config.models().imageBundle().ophthalmology(),
                config.models().imageBundle().pathology(), config.models().maxBatch(), config.models().maxWaitMicros(),
                config.models().textBundle(), config.models().rerankerBundle());
    }

    public Models(Path dataDir, int threads, String provider, MeterRegistry metrics, Optional<Path> radiology,
            Optional<Path> ophthalmology, Optional<Path> pathology, int maxBatch, long maxWaitMicros, Optional<Path> textBundle,
            // a cross-encoder bundle reranks corpus search results; without one the fused order stands
            Optional<Path> rerankerBundle) {
        ExecutionProviders.Choice ep = ExecutionProviders.choose(provider, threads);
        this.provider = ep.provider();
        this.threads = threads;
        try (OrtSession.SessionOptions options = ep.options()) {
            // a configured text encoder bundle, else MiniLM from its jar; corpora must be re-ingested after a change
            this.text = textBundle.map(b -> TextEncoder.load(b, options)).orElseGet(() -> TextEncoder.miniLm(options));
            this.reranker = rerankerBundle.map(b -> CrossEncoder.load(b, options)).orElse(null);
        }
        this.baseline = dataDir.resolve("models").resolve(BaselineImageBundle.NAME + "-" + BaselineImageBundle.VERSION);
        this.configured = Map.of(Modality.RADIOLOGY, radiology, Modality.OPHTHALMOLOGY, ophthalmology,
                Modality.PATHOLOGY, pathology);
        this.maxBatch = maxBatch;
        this.maxWaitMicros = maxWaitMicros;
        this.queries = batcher("text-queries", in -> Arrays.asList(text.embed(in)));
        Log.infof("text encoder: %s (dim %d), reranker: %s, %s execution provider", text.name(), text.dimension(),
                reranker == null ? "none (fused order)" : reranker.id(), this.provider);
        metrics.gauge("heterorag_model_execution_provider", Tags.of("provider", this.provider), 1);
    }

    public TextEncoder text() {
        return text;
    }

    /** The configured cross-encoder reranker, if any. */
    public Optional<CrossEncoder> reranker() {
        return Optional.ofNullable(reranker);
    }

    /** One query's embedding, micro-batched with concurrent queries. */
    public float[] embedQuery(String query) {
        return queries.submit(query);
    }

    /** A micro-batcher with the configured batch size and wait. */
    public <I, O> MicroBatcher<I, O> batcher(String name, Function<List<I>, List<O>> model) {
        return new MicroBatcher<>(name, model, maxBatch, maxWaitMicros);
    }

    /** The bundle a modality starts with when nothing was promoted: the configured one, else the baseline. */
    public Path configuredImageBundle(Modality m) {
        return configured.getOrDefault(m, Optional.empty()).orElseGet(() -> BaselineImageBundle.materialize(baseline));
    }

    /** Loads an image encoder bundle on the configured execution provider. */
    public ImageEncoder loadImageEncoder(Path bundle) {
        ExecutionProviders.Choice ep = ExecutionProviders.choose(provider, threads);
        try (OrtSession.SessionOptions options = ep.options()) {
            ImageEncoder enc = ImageEncoder.load(bundle, options);
            Log.infof("image encoder %s loaded from %s (dim %d, text tower: %s), %s execution provider", enc.id(), bundle,
                    enc.dimension(), enc.hasTextTower(), provider);
            return enc;
        }
    }

    @PreDestroy
    void close() {
        queries.close();
        text.close();
        if (reranker != null) {
            reranker.close();
        }
    }
}

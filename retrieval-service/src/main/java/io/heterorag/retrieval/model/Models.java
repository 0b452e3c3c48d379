package io.heterorag.retrieval.model;

import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;

import ai.onnxruntime.OrtSession;
import io.heterorag.model.BaselineImageBundle;
import io.heterorag.model.ExecutionProviders;
import io.heterorag.model.ImageEncoder;
import io.heterorag.model.TextEncoder;
import io.heterorag.proto.v1.Modality;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.quarkus.logging.Log;
import io.quarkus.runtime.Startup;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The models retrieval-service serves: the text encoder for corpora (all-MiniLM-L6-v2, int8, from its
 * Maven jar) and one image encoder bundle per modality (the configured ModCLIP bundle, or the
 * untrained baseline thumbnail encoder when none is configured). ONNX Runtime, on the execution
 * provider chosen by heterorag.models.execution-provider (auto: CUDA where the GPU build and a device are there).
 */
@Singleton
@Startup
public class Models {

    private final String provider;
    private final TextEncoder text;
    private final Map<Modality, ImageEncoder> images = new EnumMap<>(Modality.class);

    public Models(@ConfigProperty(name = "heterorag.retrieval.data-dir", defaultValue = "data/retrieval") Path dataDir,
            @ConfigProperty(name = "heterorag.models.intra-op-threads", defaultValue = "0") int threads,
            @ConfigProperty(name = "heterorag.models.execution-provider", defaultValue = "auto") String provider,
            MeterRegistry metrics,
            @ConfigProperty(name = "heterorag.models.image-bundle.radiology") Optional<Path> radiology,
            @ConfigProperty(name = "heterorag.models.image-bundle.ophthalmology") Optional<Path> ophthalmology,
            @ConfigProperty(name = "heterorag.models.image-bundle.pathology") Optional<Path> pathology) {
        ExecutionProviders.Choice ep = ExecutionProviders.choose(provider, threads);
        this.provider = ep.provider();
        try (OrtSession.SessionOptions options = ep.options()) {
            this.text = TextEncoder.miniLm(options);
            Path baseline = dataDir.resolve("models").resolve(BaselineImageBundle.NAME + "-" + BaselineImageBundle.VERSION);
            Map<Modality, Optional<Path>> configured = Map.of(Modality.RADIOLOGY, radiology,
                    Modality.OPHTHALMOLOGY, ophthalmology, Modality.PATHOLOGY, pathology);
            ImageEncoder shared = null;
            for (Modality m : configured.keySet()) {
                Optional<Path> bundle = configured.get(m);
                ImageEncoder enc;
                if (bundle.isPresent()) {
                    enc = ImageEncoder.load(bundle.get(), options);
                } else {
                    if (shared == null) {
                        shared = ImageEncoder.load(BaselineImageBundle.materialize(baseline), options);
                    }
                    enc = shared;
                }
                images.put(m, enc);
                Log.infof("image encoder for %s: %s (dim %d), %s execution provider", m, enc.id(), enc.dimension(), this.provider);
            }
            Log.infof("text encoder: %s (dim %d), %s execution provider", text.name(), text.dimension(), this.provider);
        }
        metrics.gauge("heterorag_model_execution_provider", Tags.of("provider", this.provider), 1);
    }

    public TextEncoder text() {
        return text;
    }

    public ImageEncoder image(Modality m) {
        ImageEncoder e = images.get(m);
        if (e == null) {
            throw new IllegalArgumentException("no image encoder for modality " + m);
        }
        return e;
    }

    @PreDestroy
    void close() {
        text.close();
        images.values().stream().distinct().forEach(ImageEncoder::close);
    }
}

package io.heterorag.generation.answer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import ai.onnxruntime.OrtSession;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.heterorag.generation.config.GenerationConfig;
import io.heterorag.model.bundle.ExecutionProviders;
import io.heterorag.model.generation.Generator;
import io.heterorag.model.generation.OnnxGenerator;
import io.heterorag.model.generation.ServedModel;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;
import io.quarkus.runtime.Startup;

/**
 * The answerer the service serves now: the generator bundle of heterorag.models.generator-bundle
 * (OnnxGenerator on heterorag.models.execution-provider, batching up to
 * heterorag.models.generator-max-batch requests), else the extractive answerer; a generator announced on
 * heterorag.models replaces it. A swap is atomic ({@link ServedModel}): a request holds the answerer it
 * started with ({@link #acquire}) and the replaced one is closed when its last request has finished.
 */
@Singleton
@Startup
public class ServedAnswerer {

    /** Loads a generator bundle on an execution provider (OnnxGenerator in the service; a seam for tests). */
    @FunctionalInterface
    public interface GeneratorLoader {
        Generator load(Path bundle, String executionProvider);
    }

    /** Answer budget when neither the configuration nor generation_config.json gives one. */
    static final int FALLBACK_MAX_NEW_TOKENS = 128;

    private ServedModel<Answerer> served;
    private final GeneratorLoader loader;
    private final String provider;
    private final int defaultMaxNewTokens;
    private final GenerationMetrics metrics;

    @Inject
    public ServedAnswerer(GenerationConfig config, MeterRegistry registry) {
        this(onnx(config.models().intraOpThreads(), new OnnxGenerator.Batching(config.models().generatorMaxBatch(),
                Duration.ofNanos(config.models().generatorAdmissionWindowMicros() * 1000))), config.models().executionProvider(),
                config.generation().maxNewTokens(), new GenerationMetrics(registry));
        Optional<Path> dir = config.models().generatorBundle().map(String::strip).filter(s -> !s.isEmpty()).map(Path::of);
        Answerer initial = dir.<Answerer>map(this::generative).orElseGet(ExtractiveAnswerer::new);
        served = new ServedModel<>(initial);
        metrics.follow(initial);
        Log.infof("answerer: %s", id());
    }

    /** OnnxGenerator on the configured execution provider, batching concurrent requests. */
    public static GeneratorLoader onnx(int threads, OnnxGenerator.Batching batching) {
        if (batching.maxBatch() < 1) {
            throw new IllegalArgumentException("heterorag.models.generator-max-batch must be at least 1, not " + batching.maxBatch());
        }
        return (bundle, provider) -> {
            ExecutionProviders.Choice ep = ExecutionProviders.choose(provider, threads);
            try (OrtSession.SessionOptions options = ep.options()) {
                OnnxGenerator g = OnnxGenerator.load(bundle, ep, batching);
                Log.infof("generator %s on the %s execution provider, batches of up to %d", g.id(), ep.provider(), batching.maxBatch());
                return g;
            }
        };
    }

    /** Serves {@code initial}; generators announced later are loaded with {@code loader}. */
    public ServedAnswerer(Answerer initial, GeneratorLoader loader, String provider, int defaultMaxNewTokens,
            GenerationMetrics metrics) {
        this(loader, provider, defaultMaxNewTokens, metrics);
        served = new ServedModel<>(initial);
        metrics.follow(initial);
    }

    private ServedAnswerer(GeneratorLoader loader, String provider, int defaultMaxNewTokens, GenerationMetrics metrics) {
        this.loader = loader;
        this.provider = provider;
        this.defaultMaxNewTokens = defaultMaxNewTokens;
        this.metrics = metrics;
    }

    /** The answerer for one request; close the lease when the request is done with it. */
    public ServedModel.Lease<Answerer> acquire() {
        return served.acquire();
    }

    /** Id of the answerer new requests get. */
    public String id() {
        return served.peek().id();
    }

    /** Loads the generator bundle and serves it from the next request on. Throws when it does not load. */
    public void swapTo(Path bundle) {
        swap(generative(bundle));
    }

    /** Serves {@code next} from the next request on; the replaced answerer is closed after its last request. */
    public void swap(Answerer next) {
        String old = id();
        served.swap(next);
        metrics.follow(next);
        Log.infof("answerer: %s (was %s)", next.id(), old);
    }

    private GenerativeAnswerer generative(Path bundle) {
        Generator g = loader.load(bundle, provider);
        int maxNew;
        try {
            maxNew = defaultMaxNewTokens > 0 ? defaultMaxNewTokens : bundleMaxNewTokens(bundle);
        } catch (RuntimeException e) {
            g.close();
            throw e;
        }
        Log.infof("generator %s (%s) loaded from %s: context %d tokens, answers of up to %d tokens by default", g.id(), g.family(),
                bundle, g.contextLength(), maxNew);
        return new GenerativeAnswerer(g, maxNew, metrics);
    }

    /** generation_config.json's max_new_tokens: the answer budget options.max_new_tokens = 0 means. */
    static int bundleMaxNewTokens(Path bundle) {
        Path file = bundle.resolve("generation_config.json");
        try {
            JsonObject o = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
            if (o.has("max_new_tokens") && o.get("max_new_tokens").getAsInt() > 0) {
                return o.get("max_new_tokens").getAsInt();
            }
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("generator bundle " + bundle + ": cannot read max_new_tokens from " + file + ": "
                    + e.getMessage(), e);
        }
        return FALLBACK_MAX_NEW_TOKENS;
    }

    public GenerationMetrics metrics() {
        return metrics;
    }

    @PreDestroy
    void close() {
        served.close();
    }
}

package io.heterorag.generation.answer;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import io.heterorag.model.generation.Generator;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;
import io.quarkus.runtime.Startup;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The answerer the service serves now: the generator bundle of heterorag.models.generator-bundle
 * (on heterorag.models.execution-provider), else the extractive answerer; a generator announced on
 * heterorag.models replaces it. A swap is atomic: a request holds the answerer it started with
 * ({@link #acquire}) and the replaced one is closed when its last request has finished.
 */
@Singleton
@Startup
public class ServedAnswerer {

    /** Loads a generator bundle on an execution provider (OnnxGenerator in the service; a seam for tests). */
    @FunctionalInterface
    public interface GeneratorLoader {
        Generator load(Path bundle, String executionProvider);
    }

    private final AtomicReference<Handle> current = new AtomicReference<>();
    private final GeneratorLoader loader;
    private final String provider;
    private final int defaultMaxNewTokens;
    private final GenerationMetrics metrics;

    @Inject
    public ServedAnswerer(@ConfigProperty(name = "heterorag.models.generator-bundle") Optional<String> bundle,
            @ConfigProperty(name = "heterorag.models.execution-provider", defaultValue = "auto") String provider,
            @ConfigProperty(name = "heterorag.generation.max-new-tokens", defaultValue = "128") int defaultMaxNewTokens,
            MeterRegistry registry) {
        this(Generators::load, provider, defaultMaxNewTokens, new GenerationMetrics(registry));
        Optional<Path> dir = bundle.map(String::strip).filter(s -> !s.isEmpty()).map(Path::of);
        current.set(new Handle(dir.<Answerer>map(this::generative).orElseGet(ExtractiveAnswerer::new)));
        Log.infof("answerer: %s", current.get().answerer.id());
    }

    /** Serves {@code initial}; generators announced later are loaded with {@code loader}. */
    public ServedAnswerer(Answerer initial, GeneratorLoader loader, String provider, int defaultMaxNewTokens,
            GenerationMetrics metrics) {
        this(loader, provider, defaultMaxNewTokens, metrics);
        current.set(new Handle(initial));
    }

    private ServedAnswerer(GeneratorLoader loader, String provider, int defaultMaxNewTokens, GenerationMetrics metrics) {
        this.loader = loader;
        this.provider = provider;
        this.defaultMaxNewTokens = defaultMaxNewTokens;
        this.metrics = metrics;
    }

    /** The answerer for one request; close the lease when the request is done with it. */
    public Lease acquire() {
        while (true) {
            Handle h = current.get();
            if (h.retain()) {
                return new Lease(h);
            }
            // swapped out and closed between get and retain: the new one is current
        }
    }

    /** Id of the answerer new requests get. */
    public String id() {
        return current.get().answerer.id();
    }

    /** Loads the generator bundle and serves it from the next request on. Throws when it does not load. */
    public void swapTo(Path bundle) {
        swap(generative(bundle));
    }

    /** Serves {@code next} from the next request on; the replaced answerer is closed after its last request. */
    public void swap(Answerer next) {
        Handle old = current.getAndSet(new Handle(next));
        Log.infof("answerer: %s (was %s)", next.id(), old.answerer.id());
        old.release();
    }

    private GenerativeAnswerer generative(Path bundle) {
        Generator g = loader.load(bundle, provider);
        Log.infof("generator %s (%s) loaded from %s: context %d tokens", g.id(), g.family(), bundle, g.contextLength());
        return new GenerativeAnswerer(g, defaultMaxNewTokens, metrics);
    }

    public GenerationMetrics metrics() {
        return metrics;
    }

    @PreDestroy
    void close() {
        current.get().release();
    }

    /** An answerer and its users; the count includes one for being current. */
    private static final class Handle {
        final Answerer answerer;
        final AtomicInteger users = new AtomicInteger(1);

        Handle(Answerer answerer) {
            this.answerer = answerer;
        }

        boolean retain() {
            int n;
            do {
                n = users.get();
                if (n == 0) {
                    return false;
                }
            } while (!users.compareAndSet(n, n + 1));
            return true;
        }

        void release() {
            if (users.decrementAndGet() == 0) {
                try {
                    answerer.close();
                    Log.infof("answerer %s closed", answerer.id());
                } catch (RuntimeException e) {
                    Log.warnf("closing answerer %s failed: %s", answerer.id(), e.getMessage());
                }
            }
        }
    }

    /** One request's hold on an answerer. */
    public static final class Lease implements AutoCloseable {
        private final Handle handle;
        private boolean closed;

        private Lease(Handle handle) {
            this.handle = handle;
        }

        public Answerer answerer() {
            return handle.answerer;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                handle.release();
            }
        }
    }
}

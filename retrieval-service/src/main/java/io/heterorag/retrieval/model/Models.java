package io.heterorag.retrieval.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.heterorag.proto.v1.Modality;
import io.quarkus.logging.Log;
import io.quarkus.runtime.Startup;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The models retrieval-service serves: the text encoder for corpora (all-MiniLM-L6-v2, int8, from its
 * Maven jar) and one image encoder bundle per modality (the configured ModCLIP bundle, or the
 * untrained baseline thumbnail encoder when none is configured). ONNX Runtime on CPU.
 */
@Singleton
@Startup
public class Models {

    static final String TEXT_MODEL = "all-minilm-l6-v2-q";

    private final TextEncoder text;
    private final Map<Modality, ImageEncoder> images = new EnumMap<>(Modality.class);

    public Models(@ConfigProperty(name = "heterorag.retrieval.data-dir", defaultValue = "data/retrieval") Path dataDir,
            @ConfigProperty(name = "heterorag.models.intra-op-threads", defaultValue = "0") int threads,
            @ConfigProperty(name = "heterorag.models.image-bundle.radiology") Optional<Path> radiology,
            @ConfigProperty(name = "heterorag.models.image-bundle.ophthalmology") Optional<Path> ophthalmology,
            @ConfigProperty(name = "heterorag.models.image-bundle.pathology") Optional<Path> pathology) {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            if (threads > 0) {
                options.setIntraOpNumThreads(threads);
            }
            this.text = new TextEncoder(TEXT_MODEL + "@langchain4j-1.19.0-beta29", resource(TEXT_MODEL + ".onnx"),
                    resourceStream(TEXT_MODEL + "-tokenizer.json"), 256, options);
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
                Log.infof("image encoder for %s: %s (dim %d), CPU execution provider", m, enc.id(), enc.dimension());
            }
            Log.infof("text encoder: %s (dim %d), CPU execution provider", text.name(), text.dimension());
        } catch (OrtException e) {
            throw new IllegalStateException(e);
        }
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

    private static byte[] resource(String name) {
        try (InputStream in = resourceStream(name)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static InputStream resourceStream(String name) {
        InputStream in = Models.class.getClassLoader().getResourceAsStream(name);
        if (in == null) {
            throw new IllegalStateException("model resource " + name + " is missing from the classpath");
        }
        return in;
    }

    @PreDestroy
    void close() {
        text.close();
        images.values().stream().distinct().forEach(ImageEncoder::close);
    }
}

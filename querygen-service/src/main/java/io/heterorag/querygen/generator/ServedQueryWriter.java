package io.heterorag.querygen.generator;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import io.grpc.Status;
import io.heterorag.model.bundle.ExecutionProviders;
import io.heterorag.model.generation.OnnxGenerator;
import io.heterorag.model.generation.ServedModel;
import io.heterorag.model.generation.TaggedQueryGrammar;
import io.heterorag.model.image.ImageDecoder;
import io.heterorag.model.image.InvalidImageException;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.CorpusQuery;
import io.heterorag.proto.v1.GenerateQueriesResponse;
import io.heterorag.proto.v1.Image;
import io.heterorag.querygen.config.QueryGenConfig;
import io.heterorag.querygen.pipeline.KeywordQueryBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;
import io.quarkus.runtime.Startup;

/**
 * The query writer the service serves now: a generator bundle (heterorag.models.mqg-bundle, or the
 * newest announced on heterorag.models with kind "mqg") through {@link GeneratorQueryWriter}, else
 * the rule-based {@link KeywordQueryBuilder}. When the generator's queries cannot be used, the rule
 * builder writes them, the response names why (fallback_reason) and
 * heterorag_querygen_fallbacks_total{reason} counts it. Swaps are atomic ({@link ServedModel}).
 */
@Singleton
@Startup
public class ServedQueryWriter {

    /** Loads a generator bundle as a query writer (OnnxGenerator in the service; a seam for tests). */
    @FunctionalInterface
    public interface Loader {
        GeneratorQueryWriter load(Path bundle);
    }

    static final List<Corpus> ALL = List.of(Corpus.RESEARCH, Corpus.WIKI, Corpus.BOOK, Corpus.GUIDELINE, Corpus.GRAPH);

    private final KeywordQueryBuilder rules;
    private final ServedModel<GeneratorQueryWriter> served;
    private final Loader loader;
    private final MeterRegistry registry;

    @Inject
    public ServedQueryWriter(QueryGenConfig config, MeterRegistry registry) {
        this(onnx(config.models().executionProvider(), config.models().intraOpThreads(), config.querygen().maxNewTokens(),
                new TaggedQueryGrammar(config.querygen().maxWords(), 24)), registry,
                config.models().mqgBundle().map(String::strip).filter(s -> !s.isEmpty()).map(Path::of),
                new KeywordQueryBuilder(config.querygen().reportTerms()));
    }

    public ServedQueryWriter(Loader loader, MeterRegistry registry, Optional<Path> bundle) {
        this(loader, registry, bundle, new KeywordQueryBuilder());
    }

    public ServedQueryWriter(Loader loader, MeterRegistry registry, Optional<Path> bundle, KeywordQueryBuilder rules) {
        this.rules = rules;
        this.loader = loader;
        this.registry = registry;
        this.served = new ServedModel<>(bundle.map(loader::load).orElse(null));
        Log.infof("query writer: %s", id());
    }

    /** OnnxGenerator on the execution provider; max new tokens 0: the bundle's generation_config.json. */
    public static Loader onnx(String provider, int threads, int maxNewTokens, TaggedQueryGrammar grammar) {
        return bundle -> {
            OnnxGenerator g = OnnxGenerator.load(bundle, ExecutionProviders.choose(provider, threads),
                    new OnnxGenerator.Batching(8, Duration.ofMillis(2)));
            try {
                GeneratorQueryWriter w = new GeneratorQueryWriter(g, maxNewTokens > 0 ? maxNewTokens : g.defaultMaxNewTokens(), grammar);
                Log.infof("query generator %s loaded from %s: context %d tokens", g.id(), bundle, g.contextLength());
                return w;
            } catch (RuntimeException e) {
                g.close();
                throw e;
            }
        };
    }

    /** "name@version" of the generator, else the rule builder's id. */
    public String id() {
        GeneratorQueryWriter w = served.peek();
        return w == null ? KeywordQueryBuilder.ID : w.id();
    }

    /** Loads the bundle and serves it from the next request on. Throws when it does not load. */
    public void swapTo(Path bundle) {
        GeneratorQueryWriter next = loader.load(bundle);
        String old = id();
        served.swap(next);
        Log.infof("query writer: %s (was %s)", next.id(), old);
    }

    /** Writes the queries; INVALID_ARGUMENT for an image a generator cannot read. */
    public GenerateQueriesResponse generate(String question, Image image, List<String> reports, Set<Corpus> enabled) {
        try (ServedModel.Lease<GeneratorQueryWriter> lease = served.acquire()) {
            GeneratorQueryWriter writer = lease.model();
            String fallback = "";
            if (writer != null) {
                try {
                    GeneratorQueryWriter.Written w = writer.write(question, decode(image), reports, enabled);
                    Log.debugf("generator %s wrote %d queries in %d tokens (prompt %d)", writer.id(), w.queries().size(),
                            w.generatedTokens(), w.promptTokens());
                    return response(w.queries(), w.tagged(), writer.id(), enabled, "");
                } catch (GeneratorQueryWriter.Fallback f) {
                    registry.counter("heterorag.querygen.fallbacks", "reason", f.reason()).increment();
                    Log.warnf("generator %s: %s; the rule builder writes the queries", writer.id(), f.getMessage());
                    fallback = f.getMessage();
                }
            }
            KeywordQueryBuilder.Queries q = rules.build(question, reports, enabled);
            return response(q.queries(), q.tagged(), KeywordQueryBuilder.ID, enabled, fallback);
        }
    }

    private static GenerateQueriesResponse response(List<CorpusQuery> queries, String tagged, String generator, Set<Corpus> enabled,
            String fallback) {
        Set<Corpus> skipped = EnumSet.noneOf(Corpus.class);
        skipped.addAll(enabled.isEmpty() ? ALL : enabled);
        queries.forEach(q -> skipped.remove(q.getCorpus()));
        return GenerateQueriesResponse.newBuilder().addAllQueries(queries).setTagged(tagged).setGenerator(generator)
                .addAllSkippedCorpora(ALL.stream().filter(skipped::contains).toList()).setFallbackReason(fallback).build();
    }

    private static BufferedImage decode(Image image) {
        if (image.getData().isEmpty()) {
            return null;
        }
        try {
            return ImageDecoder.decode(image.getData().toByteArray(), image.getMediaType());
        } catch (InvalidImageException e) {
            throw Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException();
        }
    }

    @PreDestroy
    void close() {
        served.close();
    }
}

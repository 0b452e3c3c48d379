package io.heterorag.retrieval;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import io.heterorag.retrieval.model.Models;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * One real {@link Models} (MiniLM, the baseline image bundle) per JVM for the plain unit tests: loading
 * the encoders dominates their time, and mutation testing re-runs them once per mutant in the same JVM.
 * Models is not under test here and holds no state a test changes.
 */
public final class SharedModels {

    private static Models models;

    private SharedModels() {
    }

    public static synchronized Models get() {
        if (models == null) {
            try {
                Path dir = Files.createTempDirectory(Path.of("target"), "shared-models");
                models = new Models(dir, 0, "cpu", new SimpleMeterRegistry(), Optional.empty(), Optional.empty(), Optional.empty(), 4,
                        500, Optional.empty(), Optional.empty());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return models;
    }
}

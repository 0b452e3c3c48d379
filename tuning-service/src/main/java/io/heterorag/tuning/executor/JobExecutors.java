package io.heterorag.tuning.executor;

import java.nio.file.Path;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import org.eclipse.microprofile.config.inject.ConfigProperty;

/** Makes the JobExecutor heterorag.tuning.executor names: local (default) or kubernetes. */
@ApplicationScoped
public class JobExecutors {

    @Produces
    @Singleton
    JobExecutor executor(@ConfigProperty(name = "heterorag.tuning.executor", defaultValue = "local") String executor,
            @ConfigProperty(name = "heterorag.tuning.data-dir", defaultValue = "./data/tuning") Path dataDir,
            KubernetesExecutorConfig kubernetes) {
        return switch (executor) {
            case "local" -> new LocalExecutor();
            case "kubernetes" -> new KubernetesExecutor(KubernetesExecutor.client(kubernetes), kubernetes, dataDir);
            default -> throw new IllegalArgumentException("heterorag.tuning.executor must be local or kubernetes, not " + executor);
        };
    }

    void close(@Disposes JobExecutor executor) {
        executor.close();
    }
}

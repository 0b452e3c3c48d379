package io.heterorag.tuning.executor;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import io.heterorag.tuning.config.TuningConfig;

/** Makes the JobExecutor heterorag.tuning.executor names: local (default) or kubernetes. */
@ApplicationScoped
public class JobExecutors {

    @Produces
    @Singleton
    JobExecutor executor(TuningConfig config) {
        TuningConfig.Tuning t = config.tuning();
        return switch (t.executor()) {
            case "local" -> new LocalExecutor();
            case "kubernetes" -> new KubernetesExecutor(KubernetesExecutor.client(t.kubernetes()), t.kubernetes(), t.dataDir());
            default -> throw new IllegalArgumentException("heterorag.tuning.executor must be local or kubernetes, not " + t.executor());
        };
    }

    void close(@Disposes JobExecutor executor) {
        executor.close();
    }
}

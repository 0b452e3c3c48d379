package io.heterorag.tuning.executor;

import java.nio.file.Path;
import java.util.function.Consumer;

import io.heterorag.proto.v1.Job;
import io.heterorag.tuning.training.JobRunner;

/**
 * Where a job's Run happens. JobRunner keeps records, progress, registration and promotion; an
 * executor only runs the validated kind, here (LocalExecutor) or as a Kubernetes Job
 * (KubernetesExecutor), and returns what it produced. Chosen by heterorag.tuning.executor.
 */
public interface JobExecutor extends AutoCloseable {

    /**
     * Runs the job and returns its outcome; throws with the reason when it failed.
     *
     * @param job the recorded job (kind, modality, parameters with defaults filled in)
     * @param run the kind's validated run, for executors that run it in this process
     */
    JobRunner.Outcome execute(Job job, JobRunner.Run run, Path bundleDir, String name, String version, Consumer<String> progress);

    @Override
    default void close() {
    }
}

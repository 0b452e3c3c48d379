package io.heterorag.tuning.executor;

import java.nio.file.Path;
import java.util.function.Consumer;

import io.heterorag.proto.v1.Job;
import io.heterorag.tuning.training.JobRunner;

/** heterorag.tuning.executor=local (the default): the job runs on the tuning service's own worker thread. */
public final class LocalExecutor implements JobExecutor {

    @Override
    public JobRunner.Outcome execute(Job job, JobRunner.Run run, Path bundleDir, String name, String version, Consumer<String> progress) {
        return run.run(job.getParametersMap(), bundleDir, name, version, progress);
    }
}

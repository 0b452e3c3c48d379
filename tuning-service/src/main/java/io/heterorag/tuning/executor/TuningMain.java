package io.heterorag.tuning.executor;

import jakarta.inject.Inject;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.QuarkusApplication;
import io.quarkus.runtime.annotations.QuarkusMain;

/**
 * The tuning service's main: with no arguments it serves until stopped (as before); with
 * {@code run-job ...} it is a Kubernetes Job's pod that runs one job and exits (JobPod).
 */
@QuarkusMain
public class TuningMain implements QuarkusApplication {

    @Inject
    JobPod pod;

    @Override
    public int run(String... args) {
        if (args.length > 0 && JobPod.COMMAND.equals(args[0])) {
            return pod.run(args);
        }
        Quarkus.waitForExit();
        return 0;
    }
}

package io.heterorag.tuning.executor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;

import io.heterorag.proto.v1.Modality;
import io.heterorag.tuning.training.JobRunner;
import io.quarkus.logging.Log;

/**
 * The entry point of a Kubernetes Job's pod: {@code run-job --job ID --kind K --modality M --name N
 * --version V --bundle-dir D --out DIR --param k=v ...}. Runs the kind in this process through the
 * same JobRunner.prepare validation as the service, then writes DIR/outcome.json (and DIR/progress
 * while it runs). A failure goes to the container's termination message, which the executor reports.
 * Started with the "job" profile: no Kafka consumers and a private in-memory store.
 */
@ApplicationScoped
public class JobPod {

    public static final String COMMAND = "run-job";
    public static final String PROFILE = "job";
    static final Path TERMINATION_LOG = Path.of("/dev/termination-log");

    private final JobRunner jobs;

    public JobPod(JobRunner jobs) {
        this.jobs = jobs;
    }

    /** Runs the job the arguments describe; returns the process's exit code. */
    public int run(String... args) {
        try {
            Map<String, String> opts = new LinkedHashMap<>();
            Map<String, String> params = new LinkedHashMap<>();
            for (int i = 1; i < args.length; i += 2) {
                if (i + 1 >= args.length || !args[i].startsWith("--")) {
                    throw new IllegalArgumentException("expected --option value pairs after " + COMMAND + ", got " + args[i]);
                }
                if (args[i].equals("--param")) {
                    int eq = args[i + 1].indexOf('=');
                    if (eq < 1) {
                        throw new IllegalArgumentException("--param needs key=value, got " + args[i + 1]);
                    }
                    params.put(args[i + 1].substring(0, eq), args[i + 1].substring(eq + 1));
                } else {
                    opts.put(args[i].substring(2), args[i + 1]);
                }
            }
            String job = need(opts, "job");
            Path out = Path.of(need(opts, "out"));
            JobRunner.Run run = jobs.prepare(need(opts, "kind"), Modality.valueOf(need(opts, "modality")), params);
            Log.infof("job %s: running %s in this pod", job, opts.get("kind"));
            JobRunner.Outcome o = run.run(params, Path.of(need(opts, "bundle-dir")), need(opts, "name"), need(opts, "version"),
                    p -> JobFiles.writeProgress(out, p));
            JobFiles.writeOutcome(out, o);
            Log.infof("job %s: %s written to %s", job, o.modelId(), out);
            return 0;
        } catch (RuntimeException | Error e) {
            Log.errorf(e, "the job failed");
            String msg = e.getClass().getSimpleName() + ": " + e.getMessage();
            if (Files.isWritable(TERMINATION_LOG)) {
                try {
                    Files.writeString(TERMINATION_LOG, msg.length() > 4000 ? msg.substring(0, 4000) : msg);
                } catch (IOException ignored) {
                    // the logs still carry it (terminationMessagePolicy FallbackToLogsOnError)
                }
            }
            return 1;
        }
    }

    private static String need(Map<String, String> opts, String key) {
        String v = opts.get(key);
        if (v == null || v.isEmpty()) {
            throw new IllegalArgumentException(COMMAND + " needs --" + key);
        }
        return v;
    }
}

package io.heterorag.tuning.executor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.heterorag.tuning.training.JobRunner;
import io.heterorag.tuning.training.ModClipJobTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.junit.main.LaunchResult;
import io.quarkus.test.junit.main.QuarkusMainLauncher;
import io.quarkus.test.junit.main.QuarkusMainTest;
import org.junit.jupiter.api.Test;

/**
 * The tuning application started as a Kubernetes Job's pod is: the "job" profile (no consumers, an
 * in-memory store) and {@code run-job} arguments. It trains in-process, leaves the outcome on the
 * (here: local) volume and exits 0; a bad job exits 1 with the reason.
 */
@QuarkusMainTest
@TestProfile(JobPodMainTest.PodProfile.class)
class JobPodMainTest {

    public static class PodProfile implements QuarkusTestProfile {
        @Override
        public String getConfigProfile() {
            return "test," + JobPod.PROFILE;
        }
    }

    static List<String> args(String kind, Path dir, Path pairs) {
        List<String> a = new ArrayList<>(List.of(JobPod.COMMAND, "--job", "pod-test", "--kind", kind, "--modality", "PATHOLOGY",
                "--name", "modclip-pathology", "--version", "pod1", "--bundle-dir", dir.resolve("bundle").toString(),
                "--out", dir.resolve("out").toString()));
        Map.of("train", pairs.toString(), "eval", pairs.toString(), "epochs", "1", "batch_size", "8", "learning_rate", "0.001",
                "image_size", "32", "dimension", "16", "seed", "7", "promote", "true").forEach((k, v) -> {
                    a.add("--param");
                    a.add(k + "=" + v);
                });
        return a;
    }

    @Test
    void runJobTrainsInThisProcessAndLeavesItsOutcome(QuarkusMainLauncher launcher) throws Exception {
        Path dir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "pod");
        Path pairs = ModClipJobTest.pairs(dir, 16);
        LaunchResult r = launcher.launch(args("modclip", dir, pairs).toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.getOutput() + r.getErrorOutput());
        JobRunner.Outcome o = JobFiles.readOutcome(dir.resolve("out"));
        assertEquals(dir.resolve("bundle").toAbsolutePath(), o.bundle());
        assertTrue(Files.exists(o.bundle().resolve("bundle.json")));
        assertTrue(o.modelId().startsWith("modclip-pathology@"), o.modelId());
        assertEquals(16.0, o.metrics().get("n"));
        assertFalse(JobFiles.readProgress(dir.resolve("out")).isEmpty(), "progress was written while it ran");
    }

    @Test
    void aJobItCannotRunExitsNonZeroWithTheReason(QuarkusMainLauncher launcher) throws Exception {
        Path dir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "pod");
        LaunchResult r = launcher.launch(args("no-such-kind", dir, dir.resolve("missing.jsonl")).toArray(String[]::new));
        assertEquals(1, r.exitCode());
        assertTrue((r.getOutput() + r.getErrorOutput()).contains("unknown job kind 'no-such-kind'"), r.getOutput() + r.getErrorOutput());
        assertFalse(Files.exists(dir.resolve("out/outcome.json")));
    }
}

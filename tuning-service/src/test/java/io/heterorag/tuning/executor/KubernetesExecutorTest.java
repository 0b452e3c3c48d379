package io.heterorag.tuning.executor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.heterorag.proto.v1.Modality;
import io.heterorag.tuning.config.TuningConfig;
import io.heterorag.tuning.training.JobRunner;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Kubernetes executor against fabric8's CRUD mock API server: the Job it creates, and how it follows one to its end. */
class KubernetesExecutorTest {

    @TempDir
    Path shared;
    MockKubernetes k8s;
    KubernetesExecutor executor;
    Path dataDir;
    Path train;

    static TuningConfig.Kubernetes config(Map<String, String> props) {
        // Quarkus's duration converter, as in the service ("5s")
        SmallRyeConfig c = new SmallRyeConfigBuilder().withMapping(TuningConfig.class)
                .withConverter(Duration.class, 200, new DurationConverter())
                .withSources(new PropertiesConfigSource(props, "test", 500)).build();
        return c.getConfigMapping(TuningConfig.class).tuning().kubernetes();
    }

    @BeforeEach
    void start() throws Exception {
        k8s = new MockKubernetes();
        dataDir = shared.resolve("tuning");
        train = Files.writeString(Files.createDirectories(shared.resolve("sets")).resolve("train.jsonl"), "{}\n");
        executor = new KubernetesExecutor(k8s.client, config(Map.ofEntries(
                Map.entry("heterorag.tuning.kubernetes.namespace", "ml"),
                Map.entry("heterorag.tuning.kubernetes.image", "registry.example.org/heterorag/tuning-service:0.1.0-gpu"),
                Map.entry("heterorag.tuning.kubernetes.gpus", "2"),
                Map.entry("heterorag.tuning.kubernetes.memory", "24Gi"),
                Map.entry("heterorag.tuning.kubernetes.node-selector", "{\"nvidia.com/gpu.present\":\"true\"}"),
                Map.entry("heterorag.tuning.kubernetes.tolerations",
                        "[{\"key\":\"nvidia.com/gpu\",\"operator\":\"Exists\",\"effect\":\"NoSchedule\"}]"),
                Map.entry("heterorag.tuning.kubernetes.runtime-class", "nvidia"),
                Map.entry("heterorag.tuning.kubernetes.service-account", "heterorag-tuning-jobs"),
                Map.entry("heterorag.tuning.kubernetes.volume-claim", "heterorag-shared"),
                Map.entry("heterorag.tuning.kubernetes.volume-mount", shared.toString()),
                Map.entry("heterorag.tuning.kubernetes.config-map", "heterorag-tuning"),
                Map.entry("heterorag.tuning.kubernetes.poll-interval", "0.05s"))), dataDir);
    }

    @AfterEach
    void stop() {
        k8s.close();
    }

    io.heterorag.proto.v1.Job job(String id) {
        return io.heterorag.proto.v1.Job.newBuilder().setJobId(id).setKind("modclip").setModality(Modality.PATHOLOGY)
                .putParameters("train", train.toString()).putParameters("eval", train.toString()).putParameters("epochs", "3").build();
    }

    CompletableFuture<JobRunner.Outcome> execute(io.heterorag.proto.v1.Job job, List<String> progress) {
        JobRunner.Run local = (p, d, n, v, pr) -> {
            throw new AssertionError("a Kubernetes job must not run in the service's process");
        };
        return CompletableFuture.supplyAsync(() -> executor.execute(job, local, dataDir.resolve("models/modclip-pathology/v1"),
                "modclip-pathology", "v1", progress::add));
    }

    @Test
    void aJobRequestsGpusMountsTheSharedVolumeAndPassesTheJobAsArguments() throws Exception {
        var f = execute(job("4f6c2a10-0000-4000-8000-000000000001"), new CopyOnWriteArrayList<>());
        Job created = k8s.awaitJob("ml", "4f6c2a10-0000-4000-8000-000000000001");
        f.cancel(true);

        assertEquals("heterorag-train-4f6c2a10-0000-4000-8000-000000000001", created.getMetadata().getName());
        assertEquals(0, created.getSpec().getBackoffLimit(), "a failed training run is reported, not retried");
        PodSpec pod = created.getSpec().getTemplate().getSpec();
        assertEquals("Never", pod.getRestartPolicy());
        assertEquals(Map.of("nvidia.com/gpu.present", "true"), pod.getNodeSelector());
        assertEquals("nvidia.com/gpu", pod.getTolerations().get(0).getKey());
        assertEquals("NoSchedule", pod.getTolerations().get(0).getEffect());
        assertEquals("nvidia", pod.getRuntimeClassName());
        assertEquals("heterorag-tuning-jobs", pod.getServiceAccountName());
        assertTrue(pod.getSecurityContext().getRunAsNonRoot());
        assertFalse(pod.getAutomountServiceAccountToken(), "the training pod needs no API access");
        assertEquals("heterorag-shared", pod.getVolumes().get(0).getPersistentVolumeClaim().getClaimName());

        Container c = pod.getContainers().get(0);
        assertEquals("registry.example.org/heterorag/tuning-service:0.1.0-gpu", c.getImage());
        assertEquals(new Quantity("2"), c.getResources().getLimits().get("nvidia.com/gpu"));
        assertEquals(new Quantity("2"), c.getResources().getRequests().get("nvidia.com/gpu"));
        assertEquals(new Quantity("24Gi"), c.getResources().getLimits().get("memory"));
        assertEquals(shared.toString(), c.getVolumeMounts().get(0).getMountPath(), "the same paths in the pod as in the service");
        assertEquals("heterorag-tuning", c.getEnvFrom().get(0).getConfigMapRef().getName());
        assertTrue(c.getEnv().stream().anyMatch(e -> e.getName().equals("HETERORAG_MODELS_EXECUTION_PROVIDER") && e.getValue().equals("cuda")));
        assertTrue(c.getEnv().stream().anyMatch(e -> e.getName().equals("QUARKUS_PROFILE") && e.getValue().equals("prod,job")));
        assertTrue(c.getSecurityContext().getReadOnlyRootFilesystem());

        List<String> args = c.getArgs();
        assertEquals("run-job", args.get(0));
        assertEquals("modclip", args.get(args.indexOf("--kind") + 1));
        assertEquals("PATHOLOGY", args.get(args.indexOf("--modality") + 1));
        assertEquals(dataDir.resolve("models/modclip-pathology/v1").toString(), args.get(args.indexOf("--bundle-dir") + 1));
        assertEquals(dataDir.resolve("jobs/4f6c2a10-0000-4000-8000-000000000001").toString(), args.get(args.indexOf("--out") + 1));
        assertTrue(args.contains("epochs=3") && args.contains("train=" + train), "parameters travel as --param k=v: " + args);
    }

    @Test
    void aSucceededJobReturnsTheOutcomeThePodWroteAndRelaysItsProgress() throws Exception {
        List<String> progress = new CopyOnWriteArrayList<>();
        var f = execute(job("4f6c2a10-0000-4000-8000-000000000002"), progress);
        Job created = k8s.awaitJob("ml", "4f6c2a10-0000-4000-8000-000000000002");
        Path out = dataDir.resolve("jobs/4f6c2a10-0000-4000-8000-000000000002");

        // the pod: progress, then a bundle and the outcome on the shared volume
        JobFiles.writeProgress(out, "epoch 2/3 loss 1.234");
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!progress.contains("epoch 2/3 loss 1.234")) {
            assertTrue(System.nanoTime() < end, "progress not relayed: " + progress);
            Thread.sleep(20);
        }
        assertFalse(f.isDone(), "still running until Kubernetes says the Job completed");
        Path bundle = Files.createDirectories(dataDir.resolve("models/modclip-pathology/v1"));
        JobFiles.writeOutcome(out, new JobRunner.Outcome(bundle, "modclip-pathology@v1", Map.of("recall_at_5", 0.42)));
        k8s.succeed(created);

        JobRunner.Outcome o = f.get(30, TimeUnit.SECONDS);
        assertEquals(bundle, o.bundle());
        assertEquals("modclip-pathology@v1", o.modelId());
        assertEquals(0.42, o.metrics().get("recall_at_5"));
    }

    @Test
    void aFailedJobFailsWithThePodsReason() throws Exception {
        var f = execute(job("4f6c2a10-0000-4000-8000-000000000003"), new CopyOnWriteArrayList<>());
        k8s.failWithOomKilledPod(k8s.awaitJob("ml", "4f6c2a10-0000-4000-8000-000000000003"));
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
        String msg = e.getCause().getMessage();
        assertTrue(msg.contains("OOMKilled (exit code 137)"), msg);
        assertTrue(msg.contains("BackoffLimitExceeded"), msg);
    }

    @Test
    void trainingDataOffTheMountedVolumesIsRefusedBeforeAnyJobIsCreated() {
        var job = job("4f6c2a10-0000-4000-8000-000000000004").toBuilder().putParameters("train", "/home/someone/train.jsonl").build();
        ExecutionException e = assertThrows(ExecutionException.class, () -> execute(job, List.of()).get(30, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("not on a volume the Job's pod mounts"), e.getCause().getMessage());
        assertTrue(k8s.client.batch().v1().jobs().inNamespace("ml").list().getItems().isEmpty());
    }

    @Test
    void aDataDirOffTheSharedVolumeIsAConfigurationError() {
        var cfg = config(Map.of("heterorag.tuning.kubernetes.image", "x", "heterorag.tuning.kubernetes.volume-claim", "c",
                "heterorag.tuning.kubernetes.volume-mount", shared.resolve("elsewhere").toString()));
        var e = assertThrows(IllegalArgumentException.class, () -> new KubernetesExecutor(k8s.client, cfg, dataDir));
        assertTrue(e.getMessage().contains("must lie under the shared volume"), e.getMessage());
        assertNull(config(Map.of()).image().orElse(null), "no image by default: kubernetes needs one named");
    }
}

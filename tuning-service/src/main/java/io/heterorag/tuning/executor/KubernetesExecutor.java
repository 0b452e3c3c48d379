package io.heterorag.tuning.executor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStateWaiting;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatus;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.heterorag.tuning.config.TuningConfig;
import io.heterorag.tuning.training.JobRunner;
import io.quarkus.logging.Log;

/**
 * heterorag.tuning.executor=kubernetes: each job runs as a Kubernetes Job (batch/v1) on a GPU node.
 * The Job's pod is the tuning image started with {@code run-job ...} arguments (JobPod): it runs the
 * same job kind in-process and leaves outcome.json under the job's directory on the shared volume.
 * This class creates the Job, polls its status, relays the pod's progress line and returns the
 * outcome, which JobRunner registers and promotes exactly as for a local job. A failed Job throws
 * with the pod's reason (e.g. OOMKilled, the termination message, DeadlineExceeded).
 */
public final class KubernetesExecutor implements JobExecutor {

    /** On the Job and its pods: the platform's job id (the pods are found by it). */
    public static final String JOB_ID_LABEL = "heterorag.io/job-id";
    public static final String KIND_LABEL = "heterorag.io/job-kind";
    static final String CONTAINER = "train";

    private final KubernetesClient client;
    private final TuningConfig.Kubernetes cfg;
    private final String namespace;
    private final Path jobsDir;
    private final Map<String, String> nodeSelector;
    private final List<Toleration> tolerations;

    public KubernetesExecutor(KubernetesClient client, TuningConfig.Kubernetes cfg, Path dataDir) {
        this.client = client;
        this.cfg = cfg;
        this.namespace = cfg.namespace().orElseGet(() -> Optional.ofNullable(client.getNamespace()).orElse("default"));
        this.jobsDir = dataDir.toAbsolutePath().normalize().resolve("jobs");
        if (cfg.image().isEmpty() || cfg.volumeClaim().isEmpty()) {
            throw new IllegalArgumentException("heterorag.tuning.executor=kubernetes needs heterorag.tuning.kubernetes.image "
                    + "(the tuning image) and heterorag.tuning.kubernetes.volume-claim (a shared claim holding the data dir)");
        }
        if (!under(jobsDir, Path.of(cfg.volumeMount()))) {
            throw new IllegalArgumentException("heterorag.tuning.data-dir (" + dataDir + ") must lie under the shared volume's mount "
                    + cfg.volumeMount() + ": the Job's pod writes bundles and outcomes there");
        }
        try {
            this.nodeSelector = Serialization.unmarshal(cfg.nodeSelector(), Map.class);
            this.tolerations = List.of(Serialization.unmarshal(cfg.tolerations(), Toleration[].class));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("heterorag.tuning.kubernetes.node-selector must be a JSON object and tolerations a JSON "
                    + "array of tolerations: " + e.getMessage(), e);
        }
    }

    /** The client from heterorag.tuning.kubernetes.master-url, or in-cluster / kubeconfig auto-configuration. */
    public static KubernetesClient client(TuningConfig.Kubernetes cfg) {
        Config base = Config.autoConfigure(null);
        Config c = cfg.masterUrl().map(url -> new ConfigBuilder(base).withMasterUrl(url).build()).orElse(base);
        return new KubernetesClientBuilder().withConfig(c).build();
    }

    @Override
    public JobRunner.Outcome execute(io.heterorag.proto.v1.Job job, JobRunner.Run run, Path bundleDir, String name, String version,
            Consumer<String> progress) {
        Path jobDir = jobsDir.resolve(job.getJobId());
        for (String file : new String[] {"train", "eval"}) {
            Path p = Path.of(job.getParametersOrDefault(file, "")).toAbsolutePath().normalize();
            if (!under(p, Path.of(cfg.volumeMount())) && !(cfg.dataClaim().isPresent() && under(p, Path.of(cfg.dataMount())))) {
                throw new IllegalArgumentException("parameter '" + file + "' (" + p + ") is not on a volume the Job's pod mounts ("
                        + cfg.volumeMount() + cfg.dataClaim().map(c -> " or " + cfg.dataMount()).orElse("") + ")");
            }
        }
        try {
            Files.createDirectories(jobDir);
            Files.deleteIfExists(jobDir.resolve(JobFiles.OUTCOME));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Job spec = spec(job, bundleDir, name, version, jobDir);
        String jobName = spec.getMetadata().getName();
        client.batch().v1().jobs().inNamespace(namespace).resource(spec).create();
        Log.infof("job %s submitted as Kubernetes Job %s/%s", job.getJobId(), namespace, jobName);
        progress.accept("submitted as Kubernetes Job " + namespace + "/" + jobName);
        try {
            return follow(job.getJobId(), jobName, jobDir, progress);
        } catch (InterruptedException e) {
            // the tuning service is stopping: do not leave a GPU busy for a job nobody follows
            client.batch().v1().jobs().inNamespace(namespace).withName(jobName).delete();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("stopped while following Kubernetes Job " + jobName + " (deleted)");
        }
    }

    /** The Kubernetes Job of a platform job: one pod, never retried (a failed training run is reported, not repeated). */
    Job spec(io.heterorag.proto.v1.Job job, Path bundleDir, String name, String version, Path jobDir) {
        String jobName = jobName(job.getJobId());
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("app.kubernetes.io/part-of", "heterorag");
        labels.put("app.kubernetes.io/name", "tuning-job");
        labels.put("app.kubernetes.io/managed-by", "tuning-service");
        labels.put(JOB_ID_LABEL, job.getJobId());
        labels.put(KIND_LABEL, job.getKind());

        List<String> args = new ArrayList<>(List.of(JobPod.COMMAND, "--job", job.getJobId(), "--kind", job.getKind(), "--modality",
                job.getModality().name(), "--name", name, "--version", version, "--bundle-dir", bundleDir.toAbsolutePath().toString(),
                "--out", jobDir.toString()));
        job.getParametersMap().forEach((k, v) -> {
            args.add("--param");
            args.add(k + "=" + v);
        });

        List<EnvVar> env = new ArrayList<>();
        env.add(new EnvVar("QUARKUS_PROFILE", "prod," + JobPod.PROFILE, null));
        env.add(new EnvVar("HETERORAG_TUNING_EXECUTOR", "local", null));
        if (cfg.gpus() > 0) {
            env.add(new EnvVar("HETERORAG_MODELS_EXECUTION_PROVIDER", "cuda", null));
        }
        Map<String, Quantity> requests = new LinkedHashMap<>();
        Map<String, Quantity> limits = new LinkedHashMap<>();
        cfg.cpu().ifPresent(c -> requests.put("cpu", new Quantity(c)));
        cfg.memory().ifPresent(m -> {
            requests.put("memory", new Quantity(m));
            limits.put("memory", new Quantity(m));
        });
        if (cfg.gpus() > 0) {
            // extended resources: the request must equal the limit
            requests.put("nvidia.com/gpu", new Quantity(String.valueOf(cfg.gpus())));
            limits.put("nvidia.com/gpu", new Quantity(String.valueOf(cfg.gpus())));
        }

        ContainerBuilder container = new ContainerBuilder().withName(CONTAINER).withImage(cfg.image().orElseThrow())
                .withImagePullPolicy(cfg.imagePullPolicy()).withArgs(args).withEnv(env)
                .withTerminationMessagePolicy("FallbackToLogsOnError")
                .withNewResources().withRequests(requests).withLimits(limits).endResources()
                .withNewSecurityContext().withAllowPrivilegeEscalation(false).withReadOnlyRootFilesystem(true)
                .withNewCapabilities().withDrop("ALL").endCapabilities().endSecurityContext()
                .addToVolumeMounts(new VolumeMountBuilder().withName("shared").withMountPath(cfg.volumeMount()).build())
                .addToVolumeMounts(new VolumeMountBuilder().withName("tmp").withMountPath("/tmp").build());
        cfg.configMap().ifPresent(cm -> container.addNewEnvFrom().withNewConfigMapRef().withName(cm).endConfigMapRef().endEnvFrom());
        cfg.dataClaim().ifPresent(c -> container.addToVolumeMounts(
                new VolumeMountBuilder().withName("datasets").withMountPath(cfg.dataMount()).withReadOnly(true).build()));
        Container c = container.build();

        JobBuilder b = new JobBuilder().withNewMetadata().withName(jobName).withNamespace(namespace).withLabels(labels).endMetadata()
                .withNewSpec().withBackoffLimit(0).withTtlSecondsAfterFinished(cfg.ttlSecondsAfterFinished())
                .withActiveDeadlineSeconds(cfg.activeDeadlineSeconds().orElse(null))
                .withNewTemplate().withNewMetadata().withLabels(labels).endMetadata()
                .withNewSpec().withRestartPolicy("Never").withServiceAccountName(cfg.serviceAccount().orElse(null))
                .withAutomountServiceAccountToken(false)
                .withNodeSelector(nodeSelector.isEmpty() ? null : nodeSelector).withTolerations(tolerations)
                .withRuntimeClassName(cfg.runtimeClass().orElse(null))
                .withNewSecurityContext().withRunAsNonRoot(true).withRunAsUser(185L).withFsGroup(185L)
                .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile().endSecurityContext()
                .withContainers(c)
                .addToVolumes(new VolumeBuilder().withName("shared").withNewPersistentVolumeClaim()
                        .withClaimName(cfg.volumeClaim().orElseThrow()).endPersistentVolumeClaim().build())
                .addToVolumes(new VolumeBuilder().withName("tmp").withNewEmptyDir().endEmptyDir().build())
                .endSpec().endTemplate().endSpec();
        if (cfg.dataClaim().isPresent()) {
            b.editSpec().editTemplate().editSpec().addToVolumes(new VolumeBuilder().withName("datasets").withNewPersistentVolumeClaim()
                    .withClaimName(cfg.dataClaim().get()).withReadOnly(true).endPersistentVolumeClaim().build())
                    .endSpec().endTemplate().endSpec();
        }
        return b.build();
    }

    static String jobName(String jobId) {
        // a Job name is a DNS label (63 characters at most): the job ids are UUIDs
        String n = "heterorag-train-" + jobId.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9-]", "-");
        return n.length() > 63 ? n.substring(0, 63).replaceAll("-+$", "") : n;
    }

    private JobRunner.Outcome follow(String jobId, String jobName, Path jobDir, Consumer<String> progress) throws InterruptedException {
        String lastProgress = null;
        while (true) {
            Job j = client.batch().v1().jobs().inNamespace(namespace).withName(jobName).get();
            if (j == null) {
                throw new IllegalStateException("Kubernetes Job " + namespace + "/" + jobName + " was deleted before it finished");
            }
            JobStatus st = j.getStatus();
            if (st != null && (condition(st, "Complete").isPresent() || positive(st.getSucceeded()))) {
                JobRunner.Outcome out = JobFiles.readOutcome(jobDir);
                if (!Files.isDirectory(out.bundle())) {
                    throw new IllegalStateException("the Job's bundle " + out.bundle() + " is not on this pod's volume (is "
                            + cfg.volumeClaim().orElseThrow() + " ReadWriteMany and mounted at " + cfg.volumeMount() + " in both?)");
                }
                return out;
            }
            Optional<JobCondition> failed = st == null ? Optional.empty() : condition(st, "Failed");
            if (failed.isPresent() || (st != null && positive(st.getFailed()))) {
                throw new IllegalStateException("Kubernetes Job " + jobName + " failed: " + reason(jobId, failed));
            }
            String p = JobFiles.readProgress(jobDir);
            if (p != null && !p.equals(lastProgress)) {
                progress.accept(p);
                lastProgress = p;
            }
            Thread.sleep(cfg.pollInterval().toMillis());
        }
    }

    /** Why it failed: the pod's container state first (OOMKilled, the termination message), else the Job's condition. */
    private String reason(String jobId, Optional<JobCondition> failed) {
        List<String> why = new ArrayList<>();
        for (Pod pod : client.pods().inNamespace(namespace).withLabel(JOB_ID_LABEL, jobId).list().getItems()) {
            if (pod.getStatus() == null) {
                continue;
            }
            for (ContainerStatus cs : Optional.ofNullable(pod.getStatus().getContainerStatuses()).orElse(List.of())) {
                ContainerStateTerminated t = cs.getState() == null ? null : cs.getState().getTerminated();
                ContainerStateWaiting w = cs.getState() == null ? null : cs.getState().getWaiting();
                if (t != null) {
                    why.add(join(t.getReason(), t.getMessage()) + " (exit code " + t.getExitCode() + ")");
                } else if (w != null) {
                    why.add(join(w.getReason(), w.getMessage()));
                }
            }
            if (why.isEmpty() && pod.getStatus().getReason() != null) {
                why.add(join(pod.getStatus().getReason(), pod.getStatus().getMessage()));
            }
        }
        failed.ifPresent(c -> why.add(join(c.getReason(), c.getMessage())));
        return why.isEmpty() ? "no reason given" : String.join("; ", why);
    }

    private static String join(String reason, String message) {
        String r = reason == null ? "" : reason;
        String m = message == null ? "" : message.strip();
        return r.isEmpty() ? m : m.isEmpty() ? r : r + ": " + m;
    }

    private static Optional<JobCondition> condition(JobStatus st, String type) {
        return Optional.ofNullable(st.getConditions()).orElse(List.of()).stream()
                .filter(c -> type.equals(c.getType()) && "True".equals(c.getStatus())).findFirst();
    }

    private static boolean positive(Integer n) {
        return n != null && n > 0;
    }

    private static boolean under(Path p, Path root) {
        return p.toAbsolutePath().normalize().startsWith(root.toAbsolutePath().normalize());
    }

    @Override
    public void close() {
        client.close();
    }
}

package io.heterorag.tuning.executor;

import java.time.Duration;
import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** heterorag.tuning.kubernetes.*: how a job runs as a Kubernetes Job (read only when heterorag.tuning.executor=kubernetes). */
@ConfigMapping(prefix = "heterorag.tuning.kubernetes")
public interface KubernetesExecutorConfig {

    /** API server; unset: in-cluster (the pod's service account) or ~/.kube/config. */
    Optional<String> masterUrl();

    /** Namespace of the Jobs; unset: the client's (the tuning pod's own namespace in a cluster). */
    Optional<String> namespace();

    /** The tuning service image (its GPU variant): the Job's pod runs the same job kind in-process. */
    Optional<String> image();

    @WithDefault("IfNotPresent")
    String imagePullPolicy();

    /** nvidia.com/gpu requested (and limited) per Job; 0: a CPU-only Job. */
    @WithDefault("1")
    int gpus();

    /** CPU and memory requests of the Job's pod (memory is also its limit); unset: none. */
    Optional<String> cpu();

    Optional<String> memory();

    /** Node selector as a JSON object, e.g. {"nvidia.com/gpu.present":"true"} (the chart writes it with toJson). */
    @WithDefault("{}")
    String nodeSelector();

    /** Tolerations as a JSON array of Kubernetes Toleration objects. */
    @WithDefault("[]")
    String tolerations();

    /** runtimeClassName of the Job's pod (e.g. nvidia); unset: the cluster default. */
    Optional<String> runtimeClass();

    Optional<String> serviceAccount();

    /**
     * The shared (ReadWriteMany) PersistentVolumeClaim mounted at volume-mount in the tuning pod and in
     * every Job's pod: heterorag.tuning.data-dir (bundles, job outcomes) must lie under it.
     */
    Optional<String> volumeClaim();

    @WithDefault("/data")
    String volumeMount();

    /** An optional read-only claim with training data (train/eval files may lie under data-mount). */
    Optional<String> dataClaim();

    @WithDefault("/datasets")
    String dataMount();

    /** A ConfigMap whose entries become the Job container's environment (the tuning service's own). */
    Optional<String> configMap();

    /** How often the Job's status is read. */
    @WithDefault("5s")
    Duration pollInterval();

    /** Finished Jobs are deleted by Kubernetes after this long. */
    @WithDefault("86400")
    int ttlSecondsAfterFinished();

    /** A Job running longer is stopped by Kubernetes (reason DeadlineExceeded); unset: no limit. */
    Optional<Long> activeDeadlineSeconds();
}

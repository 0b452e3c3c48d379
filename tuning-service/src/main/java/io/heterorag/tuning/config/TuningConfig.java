package io.heterorag.tuning.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * Everything tuning-service reads under heterorag.* (Quarkus' own quarkus.*, its datasource and the
 * Kafka keys aside). docs/configuration.md is generated from this interface: the Javadoc of each
 * method is the key's meaning there (ConfigurationDocTest in cli keeps it equal).
 */
@ConfigMapping(prefix = "heterorag")
public interface TuningConfig {

    /** heterorag.tuning.*: the service and where its training jobs run. */
    Tuning tuning();

    interface Tuning {

        /** local (training jobs run in this process) or kubernetes (a Kubernetes Job per job, on GPU nodes; docs/deployment.md). */
        @WithDefault("local")
        String executor();

        /** The job store (H2), trained bundles under models/ and job outcomes under jobs/. */
        @WithDefault("./data/tuning")
        Path dataDir();

        /** How a job runs as a Kubernetes Job (read only when executor is kubernetes). */
        Kubernetes kubernetes();
    }

    interface Kubernetes {

        /** API server; unset: in-cluster (the pod's service account) or ~/.kube/config. */
        Optional<String> masterUrl();

        /** Namespace of the Jobs; unset: the client's (the tuning pod's own namespace in a cluster). */
        Optional<String> namespace();

        /** The tuning service image (its GPU variant): the Job's pod runs the same job kind in-process. */
        Optional<String> image();

        /** imagePullPolicy of the Job's container (Always, IfNotPresent, Never). */
        @WithDefault("IfNotPresent")
        String imagePullPolicy();

        /** nvidia.com/gpu requested (and limited) per Job; 0: a CPU-only Job. */
        @WithDefault("1")
        int gpus();

        /** CPU request of the Job's pod (e.g. 4); unset: none. */
        Optional<String> cpu();

        /** Memory request and limit of the Job's pod (e.g. 32Gi); unset: none. */
        Optional<String> memory();

        /** Node selector as a JSON object, e.g. {"nvidia.com/gpu.present":"true"} (the chart writes it with toJson). */
        @WithDefault("{}")
        String nodeSelector();

        /** Tolerations as a JSON array of Kubernetes Toleration objects. */
        @WithDefault("[]")
        String tolerations();

        /** runtimeClassName of the Job's pod (e.g. nvidia); unset: the cluster default. */
        Optional<String> runtimeClass();

        /** Service account of the Job's pod; unset: the namespace's default. */
        Optional<String> serviceAccount();

        /**
         * The shared (ReadWriteMany) PersistentVolumeClaim mounted at volume-mount in the tuning pod and in
         * every Job's pod: heterorag.tuning.data-dir (bundles, job outcomes) must lie under it.
         */
        Optional<String> volumeClaim();

        /** Where volume-claim is mounted, in the tuning pod and in every Job's pod. */
        @WithDefault("/data")
        String volumeMount();

        /** An optional read-only claim with training data (train/eval files may lie under data-mount). */
        Optional<String> dataClaim();

        /** Where data-claim is mounted in the Job's pod. */
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
}

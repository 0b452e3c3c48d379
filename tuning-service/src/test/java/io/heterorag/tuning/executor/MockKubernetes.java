package io.heterorag.tuning.executor;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;

/**
 * fabric8's mock API server in CRUD mode (objects created through it are stored and read back), and
 * what the Kubernetes Job controller would do, done by hand: finish a Job, fail its pod.
 */
final class MockKubernetes implements AutoCloseable {

    final KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
            new KubernetesCrudDispatcher(), false);
    final KubernetesClient client;

    MockKubernetes() {
        server.init();
        client = server.createClient();
    }

    String url() {
        return server.url("/");
    }

    /** Waits until the executor created the Job of a platform job. */
    Job awaitJob(String namespace, String jobId) throws InterruptedException {
        long end = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < end) {
            List<Job> jobs = client.batch().v1().jobs().inNamespace(namespace).withLabel(KubernetesExecutor.JOB_ID_LABEL, jobId).list()
                    .getItems();
            if (!jobs.isEmpty()) {
                return jobs.get(0);
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no Kubernetes Job for " + jobId);
    }

    void succeed(Job job) {
        job.setStatus(new JobStatusBuilder().withSucceeded(1)
                .withConditions(new JobConditionBuilder().withType("Complete").withStatus("True").build()).build());
        client.batch().v1().jobs().inNamespace(job.getMetadata().getNamespace()).resource(job).updateStatus();
    }

    /** The pod ends as the kubelet reports an out-of-memory kill; the Job controller gives up (backoffLimit 0). */
    void failWithOomKilledPod(Job job) {
        Map<String, String> labels = job.getSpec().getTemplate().getMetadata().getLabels();
        Pod pod = new PodBuilder().withNewMetadata().withName(job.getMetadata().getName() + "-x7k2p")
                .withNamespace(job.getMetadata().getNamespace()).withLabels(labels).endMetadata()
                .withNewStatus().withPhase("Failed").withContainerStatuses(new ContainerStatusBuilder().withName(KubernetesExecutor.CONTAINER)
                        .withNewState().withNewTerminated().withReason("OOMKilled").withExitCode(137).endTerminated().endState().build())
                .endStatus().build();
        client.pods().inNamespace(pod.getMetadata().getNamespace()).resource(pod).create();
        job.setStatus(new JobStatusBuilder().withFailed(1).withConditions(new JobConditionBuilder().withType("Failed").withStatus("True")
                .withReason("BackoffLimitExceeded").withMessage("Job has reached the specified backoff limit").build()).build());
        client.batch().v1().jobs().inNamespace(job.getMetadata().getNamespace()).resource(job).updateStatus();
    }

    @Override
    public void close() {
        client.close();
        server.destroy();
    }
}

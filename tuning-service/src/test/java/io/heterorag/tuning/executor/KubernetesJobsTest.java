package io.heterorag.tuning.executor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import jakarta.inject.Inject;

import io.heterorag.proto.v1.GetJobRequest;
import io.heterorag.proto.v1.Job;
import io.heterorag.proto.v1.ListModelsRequest;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.StartJobRequest;
import io.heterorag.proto.v1.TuningGrpc;
import io.heterorag.tuning.training.ModClipJobTest;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

/**
 * Jobs through the gRPC API with heterorag.tuning.executor=kubernetes. The test does what the cluster
 * would: it runs the created Job's container arguments through JobPod (the pod's entry point) and
 * then marks the Job complete or failed; JobRunner must register and promote the outcome as it does
 * for a local job, or fail the job with the pod's reason.
 */
@QuarkusTest
@TestProfile(KubernetesExecutorProfile.class)
class KubernetesJobsTest {

    @GrpcClient("self")
    TuningGrpc.TuningBlockingStub tuning;

    @Inject
    JobPod pod;

    Job start() throws Exception {
        Path dir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "k8s-job");
        Path pairs = ModClipJobTest.pairs(dir, 24);
        return tuning.startJob(StartJobRequest.newBuilder().setKind("modclip").setModality(Modality.PATHOLOGY)
                .putParameters("train", pairs.toString()).putParameters("eval", pairs.toString())
                .putParameters("epochs", "2").putParameters("image_size", "32").putParameters("dimension", "16")
                .putParameters("batch_size", "8").build());
    }

    @Test
    void aJobRunByItsKubernetesPodIsRegisteredAndPromotedLikeALocalOne() throws Exception {
        Job started = start();
        var k8s = KubernetesExecutorProfile.Server.k8s;
        var created = k8s.awaitJob(KubernetesExecutorProfile.NAMESPACE, started.getJobId());
        assertEquals("running", await(started, s -> !s.equals("queued")).getState());

        // the pod: the same image, these arguments
        int exit = pod.run(created.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs().toArray(String[]::new));
        assertEquals(0, exit);
        k8s.succeed(created);

        Job job = await(started, s -> s.equals("succeeded") || s.equals("failed"));
        assertEquals("succeeded", job.getState(), job.getError());
        assertTrue(job.getModel().startsWith("modclip-pathology@"), job.getModel());
        assertTrue(Files.exists(Path.of(job.getBundlePath(), "bundle.json")), "the pod's bundle, on the shared volume");
        assertTrue(job.getMetricsMap().containsKey("recall_at_5"), job.getMetricsMap().toString());
        assertTrue(job.getMetricsMap().containsKey("previous_recall_at_5"), "compared with the registered model as a local job is");
        if (job.getPromoted()) {
            assertTrue(tuning.listModels(ListModelsRequest.getDefaultInstance()).getModelsList().stream()
                    .anyMatch(m -> (m.getName() + "@" + m.getVersion()).equals(job.getModel())));
        } else {
            assertTrue(job.getProgress().contains("not better"), job.getProgress());
        }
    }

    @Test
    void aFailedKubernetesJobFailsThePlatformJobWithThePodsReason() throws Exception {
        Job started = start();
        var k8s = KubernetesExecutorProfile.Server.k8s;
        k8s.failWithOomKilledPod(k8s.awaitJob(KubernetesExecutorProfile.NAMESPACE, started.getJobId()));
        Job job = await(started, s -> s.equals("succeeded") || s.equals("failed"));
        assertEquals("failed", job.getState());
        assertTrue(job.getError().contains("OOMKilled"), job.getError());
        assertTrue(job.getBundlePath().isEmpty(), "nothing registered");
    }

    private Job await(Job started, java.util.function.Predicate<String> state) throws InterruptedException {
        Job job = started;
        long end = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (!state.test(job.getState())) {
            assertTrue(System.nanoTime() < end, "job stuck: " + job);
            Thread.sleep(100);
            job = tuning.getJob(GetJobRequest.newBuilder().setJobId(started.getJobId()).build());
        }
        return job;
    }
}

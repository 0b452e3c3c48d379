package io.heterorag.tuning.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import io.heterorag.proto.v1.GetJobRequest;
import io.heterorag.proto.v1.Job;
import io.heterorag.proto.v1.ListJobsRequest;
import io.heterorag.proto.v1.ListModelsRequest;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.ModelAnnouncement;
import io.heterorag.proto.v1.StartJobRequest;
import io.heterorag.proto.v1.TuningGrpc;
import io.heterorag.tuning.training.GeneratorJobTest;
import io.heterorag.tuning.training.ModClipJobTest;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/** A ModCLIP job through the gRPC API: it trains, records its metrics, registers and announces the model. */
@QuarkusTest
class TrainingJobTest {

    @GrpcClient("self")
    TuningGrpc.TuningBlockingStub tuning;

    @Test
    void aModClipJobTrainsIsRecordedAndItsModelAnnounced() throws Exception {
        Path dir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "job");
        Path pairs = ModClipJobTest.pairs(dir, 24);
        Job started = tuning.startJob(StartJobRequest.newBuilder().setKind("modclip").setModality(Modality.PATHOLOGY)
                .putParameters("train", pairs.toString()).putParameters("eval", pairs.toString())
                .putParameters("epochs", "3").putParameters("image_size", "32").putParameters("dimension", "16")
                .putParameters("batch_size", "8").build());
        assertEquals("queued", started.getState());
        assertEquals("3", started.getParametersOrThrow("epochs"));
        assertEquals("0.001", started.getParametersOrThrow("learning_rate"), "defaults are filled in and recorded");

        Job job = started;
        long end = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (!job.getState().equals("succeeded") && !job.getState().equals("failed")) {
            assertTrue(System.nanoTime() < end, "job did not finish: " + job);
            Thread.sleep(250);
            job = tuning.getJob(GetJobRequest.newBuilder().setJobId(started.getJobId()).build());
        }
        assertEquals("succeeded", job.getState(), job.getError());
        assertTrue(job.getMetricsMap().containsKey("recall_at_5"));
        assertEquals(24.0, job.getMetricsOrThrow("n"));
        assertTrue(Files.exists(Path.of(job.getBundlePath(), "bundle.json")));
        assertTrue(job.getModel().startsWith("modclip-pathology@"));
        assertTrue(job.getPromoted(), "the first model of a modality beats 'none'");
        assertTrue(tuning.listJobs(ListJobsRequest.getDefaultInstance()).getJobsList().stream()
                .anyMatch(j -> j.getJobId().equals(started.getJobId())));
        String model = job.getModel();
        assertTrue(tuning.listModels(ListModelsRequest.getDefaultInstance()).getModelsList().stream()
                .anyMatch(m -> (m.getName() + "@" + m.getVersion()).equals(model)));

        ModelAnnouncement announced = null;
        try (KafkaConsumer<String, byte[]> c = consumer()) {
            c.subscribe(List.of("heterorag.models"));
            while (announced == null) {
                assertTrue(System.nanoTime() < end, "no announcement of " + model);
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(500))) {
                    ModelAnnouncement a = ModelAnnouncement.parseFrom(r.value());
                    if ((a.getName() + "@" + a.getVersion()).equals(model)) {
                        announced = a;
                    }
                }
            }
        }
        assertEquals(Modality.PATHOLOGY, announced.getModality());
        assertEquals("image_encoder", announced.getKind());
        assertEquals(job.getBundlePath(), announced.getBundleUri());
        assertFalse(announced.getMetricsMap().isEmpty());
    }

    @Test
    void aGeneratorJobTrainsIsRecordedAndItsModelAnnounced() throws Exception {
        Path dir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "job");
        Path examples = GeneratorJobTest.examples(dir, 32);
        Job started = tuning.startJob(StartJobRequest.newBuilder().setKind("generator")
                .putParameters("train", examples.toString()).putParameters("eval", examples.toString())
                .putParameters("epochs", "2").putParameters("batch_size", "16").putParameters("hidden", "32")
                .putParameters("layers", "1").putParameters("heads", "2").putParameters("context", "96")
                .putParameters("image_size", "32").build());
        assertEquals("queued", started.getState());
        assertEquals("96", started.getParametersOrThrow("context"), "given parameters are kept");
        assertEquals("0.001", started.getParametersOrThrow("learning_rate"), "defaults are filled in and recorded");

        Job job = awaitEnd(started, Duration.ofMinutes(3));
        assertEquals("succeeded", job.getState(), job.getError());
        assertTrue(job.getMetricsOrThrow("parity_max_abs_diff") <= 1e-4, job.getMetricsMap().toString());
        assertTrue(job.getMetricsMap().containsKey("closed_accuracy"));
        assertTrue(job.getMetricsMap().containsKey("final_loss"));
        assertTrue(Files.exists(Path.of(job.getBundlePath(), "decoder_model_merged.onnx")));
        assertTrue(job.getModel().startsWith("heterorag-vlm@"));
        String model = job.getModel();
        assertEquals(0.0, job.getMetricsOrThrow("previous_closed_accuracy"), "no generator was registered before");
        assertTrue(job.getMetricsOrThrow("closed_accuracy") > 0, job.getMetricsMap().toString());
        assertTrue(job.getPromoted(), "a first generator with any right answer beats 'none'");
        assertTrue(tuning.listModels(ListModelsRequest.getDefaultInstance()).getModelsList().stream()
                .anyMatch(m -> (m.getName() + "@" + m.getVersion()).equals(model) && m.getKind().equals("generator")));

        ModelAnnouncement announced = announcement(model, System.nanoTime() + Duration.ofMinutes(1).toNanos());
        assertEquals("generator", announced.getKind());
        assertEquals(Modality.MODALITY_UNSPECIFIED, announced.getModality());
        assertEquals(job.getBundlePath(), announced.getBundleUri());
        assertEquals(job.getMetricsOrThrow("closed_accuracy"), announced.getMetricsOrThrow("closed_accuracy"), 1e-9);
    }

    private Job awaitEnd(Job started, Duration limit) throws InterruptedException {
        Job job = started;
        long end = System.nanoTime() + limit.toNanos();
        while (!job.getState().equals("succeeded") && !job.getState().equals("failed")) {
            assertTrue(System.nanoTime() < end, "job did not finish: " + job);
            Thread.sleep(250);
            job = tuning.getJob(GetJobRequest.newBuilder().setJobId(started.getJobId()).build());
        }
        return job;
    }

    private static ModelAnnouncement announcement(String model, long end) throws Exception {
        try (KafkaConsumer<String, byte[]> c = consumer()) {
            c.subscribe(List.of("heterorag.models"));
            while (true) {
                assertTrue(System.nanoTime() < end, "no announcement of " + model);
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(500))) {
                    ModelAnnouncement a = ModelAnnouncement.parseFrom(r.value());
                    if ((a.getName() + "@" + a.getVersion()).equals(model)) {
                        return a;
                    }
                }
            }
        }
    }

    static KafkaConsumer<String, byte[]> consumer() {
        Properties p = new Properties();
        p.putAll(Map.of("bootstrap.servers", ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class),
                "group.id", "test-" + UUID.randomUUID(), "auto.offset.reset", "earliest",
                "key.deserializer", StringDeserializer.class.getName(), "value.deserializer", ByteArrayDeserializer.class.getName()));
        return new KafkaConsumer<>(p);
    }
}

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

    static KafkaConsumer<String, byte[]> consumer() {
        Properties p = new Properties();
        p.putAll(Map.of("bootstrap.servers", ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class),
                "group.id", "test-" + UUID.randomUUID(), "auto.offset.reset", "earliest",
                "key.deserializer", StringDeserializer.class.getName(), "value.deserializer", ByteArrayDeserializer.class.getName()));
        return new KafkaConsumer<>(p);
    }
}

package io.heterorag.generation.answer;

import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import io.heterorag.localkafka.LocalKafkaBroker;
import io.heterorag.model.generation.ServedModel;
import io.heterorag.model.generation.TinyVlmBundles;
import io.heterorag.proto.v1.ModelAnnouncement;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/**
 * The service starts on the extractive answerer (no generator bundle configured) and follows the
 * generators announced on heterorag.models through Kafka; an announced bundle that does not load
 * leaves the served answerer as it is. The generation meters are on /q/metrics.
 */
@QuarkusTest
class GeneratorAnnouncementTest {

    @Inject
    ServedAnswerer served;

    @Test
    void anAnnouncedGeneratorIsServedAndABrokenOneIsSkipped() throws Exception {
        assertEquals(ExtractiveAnswerer.ID, served.id());
        Path dir = Path.of(System.getProperty("java.io.tmpdir")).resolve("announced-" + System.nanoTime());
        Files.createDirectories(dir);
        Path bundle = TinyVlmBundles.llava(dir.resolve("tiny-llava"));
        assertEquals(16, ServedAnswerer.bundleMaxNewTokens(bundle), "options.max_new_tokens 0: generation_config.json's budget");
        try (KafkaProducer<String, byte[]> p = LocalKafkaBroker.producer(
                ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class))) {
            p.send(announcement("tiny-vlm", bundle)).get();
            await("tiny-vlm@test");
            p.send(announcement("broken", dir.resolve("missing"))).get();
            p.send(new ProducerRecord<>("heterorag.models", "img", ModelAnnouncement.newBuilder().setKind("image_encoder")
                    .setName("img").setBundleUri(dir.toString()).build().toByteArray())).get();
            // a later good announcement shows the two before were consumed (one partition, in order) and skipped
            p.send(announcement("tiny-vlm", bundle)).get();
        }
        Thread.sleep(2_000);
        assertEquals("tiny-vlm@test", served.id());
        try (ServedModel.Lease<Answerer> l = served.acquire()) {
            assertTrue(l.model() instanceof GenerativeAnswerer);
        }
        RestAssured.get("/q/health/ready").then().statusCode(200).body(containsString("\"answerer\": \"tiny-vlm@test\""));
        RestAssured.get("/q/metrics").then().statusCode(200)
                .body(containsString("heterorag_generation_ttft_seconds_count"))
                .body(containsString("heterorag_generation_time_per_output_token_seconds_count"))
                .body(containsString("heterorag_generation_tokens_total{kind=\"generated\""))
                .body(containsString("heterorag_generation_requests_waiting"))
                .body(containsString("heterorag_generation_requests_decoding"));
        // the other tests of this shared application expect the extractive answerer it starts with
        served.swap(new ExtractiveAnswerer());
    }

    static ProducerRecord<String, byte[]> announcement(String name, Path bundle) {
        return new ProducerRecord<>("heterorag.models", name, ModelAnnouncement.newBuilder().setName(name).setVersion("test")
                .setKind("generator").setBundleUri(bundle.toString()).build().toByteArray());
    }

    void await(String id) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!served.id().equals(id)) {
            assertTrue(System.nanoTime() < end, "the announced generator was not served within 60 s (serving " + served.id() + ")");
            Thread.sleep(100);
        }
    }
}

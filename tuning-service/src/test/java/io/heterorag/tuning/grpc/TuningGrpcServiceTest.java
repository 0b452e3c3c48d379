package io.heterorag.tuning.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.UUID;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.heterorag.proto.v1.Feedback;
import io.heterorag.proto.v1.GetTraceRequest;
import io.heterorag.proto.v1.ListFeedbackRequest;
import io.heterorag.proto.v1.ListTracesRequest;
import io.heterorag.proto.v1.StartJobRequest;
import io.heterorag.proto.v1.Trace;
import io.heterorag.proto.v1.TuningGrpc;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.heterorag.localkafka.LocalKafkaBroker;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/** Traces and feedback arrive through a real broker and are stored once, however often delivered. */
@QuarkusTest
class TuningGrpcServiceTest {

    @GrpcClient("self")
    TuningGrpc.TuningBlockingStub tuning;

    @Test
    void tracesFromKafkaAreStoredOnceAndMalformedMessagesSkipped() throws Exception {
        String id = UUID.randomUUID().toString();
        Trace trace = Trace.newBuilder().setTraceId(id).setQuestion("q").setAnswer("a").setCreatedAtMs(System.currentTimeMillis()).build();
        try (KafkaProducer<String, byte[]> p = producer()) {
            p.send(new ProducerRecord<>("heterorag.traces", id, new byte[] {(byte) 0xff, 0x01})).get();
            p.send(new ProducerRecord<>("heterorag.traces", id, trace.toByteArray())).get();
            p.send(new ProducerRecord<>("heterorag.traces", id, trace.toByteArray())).get();
            String marker = UUID.randomUUID().toString();
            p.send(new ProducerRecord<>("heterorag.traces", id, trace.toBuilder().setTraceId(marker).build().toByteArray())).get();
            // same key, same partition, in order: once the marker is in, both copies and the junk were processed
            awaitTrace(marker);
        }
        assertEquals(trace, tuning.getTrace(GetTraceRequest.newBuilder().setTraceId(id).build()));
        long copies = tuning.listTraces(ListTracesRequest.newBuilder().setPageSize(1000).build()).getTracesList().stream()
                .filter(t -> t.getTraceId().equals(id)).count();
        assertEquals(1, copies);
    }

    @Test
    void feedbackFromKafkaAndGrpcIsStoredOnce() throws Exception {
        String traceId = UUID.randomUUID().toString();
        Feedback viaKafka = Feedback.newBuilder().setFeedbackId(UUID.randomUUID().toString()).setTraceId(traceId).setRating(1)
                .setCreatedAtMs(1).build();
        try (KafkaProducer<String, byte[]> p = producer()) {
            p.send(new ProducerRecord<>("heterorag.feedback", viaKafka.getFeedbackId(), viaKafka.toByteArray())).get();
        }
        Feedback viaGrpc = Feedback.newBuilder().setFeedbackId(UUID.randomUUID().toString()).setTraceId(traceId).setRating(-1)
                .setCorrectAnswer("Pulmonary Hamartoma").build();
        assertTrue(tuning.submitFeedback(viaGrpc).getStored());
        assertFalse(tuning.submitFeedback(viaGrpc).getStored(), "the same feedback id is stored once");
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (tuning.listFeedback(ListFeedbackRequest.newBuilder().setTraceId(traceId).build()).getFeedbackCount() < 2) {
            assertTrue(System.nanoTime() < end, "feedback from Kafka not stored within 60 s");
            Thread.sleep(200);
        }
        var stored = tuning.listFeedback(ListFeedbackRequest.newBuilder().setTraceId(traceId).build()).getFeedbackList();
        assertEquals(2, stored.size());
        assertEquals(viaGrpc.getFeedbackId(), stored.get(0).getFeedbackId(), "newest first");
        assertTrue(stored.get(0).getCreatedAtMs() > 1, "a creation time is set when the caller gives none");
    }

    @Test
    void badInputGetsClearStatusesAndTheServiceStaysHealthy() {
        assertStatus(Status.Code.NOT_FOUND, "no trace", () -> tuning.getTrace(GetTraceRequest.newBuilder().setTraceId("nope").build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "trace_id is empty", () -> tuning.getTrace(GetTraceRequest.getDefaultInstance()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "page_size", () -> tuning.listTraces(ListTracesRequest.newBuilder().setPageSize(-1).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "required", () -> tuning.submitFeedback(Feedback.getDefaultInstance()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "rating", () -> tuning.submitFeedback(Feedback.newBuilder().setFeedbackId("f")
                .setTraceId("t").setRating(5).build()));
        assertStatus(Status.Code.RESOURCE_EXHAUSTED, "maximum size", () -> tuning.submitFeedback(Feedback.newBuilder()
                .setComment("x".repeat(33 * 1024 * 1024)).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "comment has 16385 characters, above the limit of 16384", () -> tuning.submitFeedback(
                Feedback.newBuilder().setFeedbackId("f").setTraceId("t").setComment("c".repeat(16385)).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "trace_id has 257 characters, above the limit of 256", () -> tuning.submitFeedback(
                Feedback.newBuilder().setFeedbackId("f").setTraceId("t".repeat(257)).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "parameters[epochs] has 1025 characters, above the limit of 1024", () -> tuning.startJob(
                StartJobRequest.newBuilder().setKind("generator").putParameters("epochs", "1".repeat(1025)).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "unknown job kind", () -> tuning.startJob(StartJobRequest.newBuilder().setKind("hkpt").build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "needs a modality", () -> tuning.startJob(StartJobRequest.newBuilder().setKind("modclip").build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "readable pairs file", () -> tuning.startJob(StartJobRequest.newBuilder()
                .setKind("modclip").setModality(io.heterorag.proto.v1.Modality.RADIOLOGY).putParameters("train", "/nope").build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "leave the modality unset", () -> tuning.startJob(StartJobRequest.newBuilder()
                .setKind("generator").setModality(io.heterorag.proto.v1.Modality.RADIOLOGY).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "hidden a multiple of heads", () -> tuning.startJob(StartJobRequest.newBuilder()
                .setKind("generator").putParameters("hidden", "30").putParameters("heads", "4").build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "not a number", () -> tuning.startJob(StartJobRequest.newBuilder()
                .setKind("generator").putParameters("epochs", "many").build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "readable examples file", () -> tuning.startJob(StartJobRequest.newBuilder()
                .setKind("generator").putParameters("train", "/nope").build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "leave the modality unset", () -> tuning.startJob(StartJobRequest.newBuilder()
                .setKind("dpo").setModality(io.heterorag.proto.v1.Modality.RADIOLOGY).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "beta > 0", () -> tuning.startJob(StartJobRequest.newBuilder()
                .setKind("dpo").putParameters("beta", "0").build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "must name a generator bundle", () -> tuning.startJob(StartJobRequest.newBuilder()
                .setKind("dpo").putParameters("bundle", "/nope").build()));
        assertStatus(Status.Code.NOT_FOUND, "no job", () -> tuning.getJob(io.heterorag.proto.v1.GetJobRequest.newBuilder().setJobId("x").build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "kind must be", () -> tuning.listPreferencePairs(
                io.heterorag.proto.v1.ListPreferencePairsRequest.newBuilder().setKind("hkpt").build()));
        RestAssured.get("/q/health/ready").then().statusCode(200);
    }

    private void awaitTrace(String id) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try {
                tuning.getTrace(GetTraceRequest.newBuilder().setTraceId(id).build());
                return;
            } catch (StatusRuntimeException e) {
                assertTrue(System.nanoTime() < end, "trace " + id + " not stored within 60 s");
                Thread.sleep(200);
            }
        }
    }

    static KafkaProducer<String, byte[]> producer() {
        return LocalKafkaBroker.producer(ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class));
    }

    static void assertStatus(Status.Code code, String messagePart, Runnable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
        assertEquals(code, e.getStatus().getCode(), String.valueOf(e.getStatus().getDescription()));
        String d = String.valueOf(e.getStatus().getDescription());
        assertTrue(d.contains(messagePart), "message '" + d + "' should contain '" + messagePart + "'");
    }
}

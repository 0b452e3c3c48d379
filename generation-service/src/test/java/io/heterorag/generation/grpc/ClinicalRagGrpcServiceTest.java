package io.heterorag.generation.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.heterorag.proto.v1.AnswerOptions;
import io.heterorag.proto.v1.AnswerRequest;
import io.heterorag.proto.v1.AnswerResponse;
import io.heterorag.proto.v1.Degradation;
import io.heterorag.proto.v1.ClinicalRagGrpc;
import io.heterorag.proto.v1.Image;
import io.heterorag.proto.v1.Task;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import org.junit.jupiter.api.Test;

/**
 * The public API refuses bad input with a clear status on both RPCs, and still answers, flagging each
 * degraded stage, when its backing services are down (nothing listens on the test ports of retrieval
 * and querygen here; the whole pipeline runs in the end-to-end test).
 */
@QuarkusTest
class ClinicalRagGrpcServiceTest {

    @GrpcClient("self")
    ClinicalRagGrpc.ClinicalRagBlockingStub rag;

    static final Image JPEG = Image.newBuilder().setMediaType("image/jpeg")
            .setData(ByteString.copyFrom(new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 0})).build();

    static AnswerRequest.Builder valid() {
        return AnswerRequest.newBuilder().setImage(JPEG).setQuestion("What is the most likely diagnosis?");
    }

    @Test
    void badInputIsRefusedOnBothRpcs() {
        for (Function<AnswerRequest, Object> call : java.util.List.<Function<AnswerRequest, Object>>of(
                r -> rag.answer(r), r -> rag.streamAnswer(r).next())) {
            assertStatus(Status.Code.INVALID_ARGUMENT, "image is empty", () -> call.apply(valid().clearImage().build()));
            assertStatus(Status.Code.INVALID_ARGUMENT, "unknown modality", () -> call.apply(valid().setModalityValue(7).build()));
            assertStatus(Status.Code.INVALID_ARGUMENT, "unknown task", () -> call.apply(valid().setTaskValue(9).build()));
            assertStatus(Status.Code.INVALID_ARGUMENT, "question is empty", () -> call.apply(valid().clearQuestion().build()));
            assertStatus(Status.Code.INVALID_ARGUMENT, "unknown corpus", () -> call.apply(valid()
                    .setOptions(AnswerOptions.newBuilder().addCorporaValue(0)).build()));
            assertStatus(Status.Code.RESOURCE_EXHAUSTED, "exceeds the limit", () -> call.apply(valid().setImage(Image.newBuilder()
                    .setData(ByteString.copyFrom(new byte[17 * 1024 * 1024]))).build()));
            assertStatus(Status.Code.RESOURCE_EXHAUSTED, "maximum size", () -> call.apply(valid().setImage(Image.newBuilder()
                    .setData(ByteString.copyFrom(new byte[33 * 1024 * 1024]))).build()));
        }
        RestAssured.get("/q/health/live").then().statusCode(200);
    }

    @Test
    void outOfRangeGenerationOptionsAreRefusedNamingTheField() {
        List<Map.Entry<String, AnswerOptions.Builder>> bad = List.of(
                Map.entry("options.max_new_tokens must be in 0..1024", AnswerOptions.newBuilder().setMaxNewTokens(1025)),
                Map.entry("not 4294967295", AnswerOptions.newBuilder().setMaxNewTokens(-1)), // uint32 on the wire
                Map.entry("options.temperature must be in 0..2", AnswerOptions.newBuilder().setTemperature(2.5f)),
                Map.entry("options.temperature", AnswerOptions.newBuilder().setTemperature(Float.NaN)),
                Map.entry("options.top_p must be in 0..1", AnswerOptions.newBuilder().setTopP(1.01f)),
                Map.entry("options.top_p", AnswerOptions.newBuilder().setTopP(-0.1f)),
                Map.entry("options.top_k must be in 0..1000", AnswerOptions.newBuilder().setTopK(1001)),
                Map.entry("options.repetition_penalty must be 0", AnswerOptions.newBuilder().setRepetitionPenalty(0.5f)),
                Map.entry("options.repetition_penalty", AnswerOptions.newBuilder().setRepetitionPenalty(2.1f)),
                Map.entry("options.stop takes at most 4", AnswerOptions.newBuilder().addAllStop(List.of("a", "b", "c", "d", "e"))),
                Map.entry("options.stop: each string must have 1..64 characters", AnswerOptions.newBuilder().addStop("")),
                Map.entry("options.stop: each string", AnswerOptions.newBuilder().addStop("x".repeat(65))),
                Map.entry("options.closed_answers takes at most 32", AnswerOptions.newBuilder()
                        .addAllClosedAnswers(Collections.nCopies(33, "yes"))),
                Map.entry("options.closed_answers: each string", AnswerOptions.newBuilder().addClosedAnswers("y".repeat(65))),
                Map.entry("options.closed_answers: an answer must not be blank", AnswerOptions.newBuilder().addClosedAnswers(" ")));
        for (var b : bad) {
            assertStatus(Status.Code.INVALID_ARGUMENT, b.getKey(), () -> rag.streamAnswer(valid().setOptions(b.getValue()).build()).next());
        }
        // in range, edges included: answered, though from the question alone (retrieval and querygen are absent)
        AnswerResponse res = rag.answer(valid().setOptions(AnswerOptions.newBuilder()
                .setMaxNewTokens(1024).setTemperature(2).setTopP(1).setTopK(1000).setRepetitionPenalty(1).addStop("\n")
                .addAllClosedAnswers(List.of("left", "right"))).build());
        assertEquals("reports", res.getDegraded(0).getStage());
    }

    @Test
    void everyDependencyDownStillAnswersAndFlagsEachStage() {
        // nothing listens on retrieval's and querygen's test ports: each call is UNAVAILABLE
        AnswerResponse res = rag.answer(valid().build());
        assertFalse(res.getTraceId().isBlank());
        List<String> stages = res.getDegradedList().stream().map(Degradation::getStage).toList();
        assertEquals(List.of("reports", "queries", "knowledge:RESEARCH", "knowledge:WIKI", "knowledge:BOOK", "knowledge:GUIDELINE",
                "knowledge:GRAPH"), stages);
        assertTrue(res.getDegradedList().stream().allMatch(d -> d.getReason().startsWith("UNAVAILABLE")), res.getDegradedList().toString());
        // report generation needs no question
        AnswerResponse report = rag.answer(valid().clearQuestion().setTask(Task.REPORT_GENERATION).build());
        assertEquals("reports", report.getDegraded(0).getStage());
    }

    @Test
    void oversizedFieldsAreRefusedBeforeParsingOrNamingTheLimit() {
        // above the server's inbound message limit (20 MiB): refused by gRPC before it is parsed
        assertStatus(Status.Code.RESOURCE_EXHAUSTED, "maximum size", () -> rag.answer(valid().setQuestion("x".repeat(25 * 1024 * 1024)).build()));
        // under it: each field's own limit, named with its key
        assertStatus(Status.Code.INVALID_ARGUMENT, "question has 8388608 characters, above the limit of 8192 (heterorag.generation.max-question-chars)",
                () -> rag.answer(valid().setQuestion("x".repeat(8 * 1024 * 1024)).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "request_id has 2097152 characters, above the limit of 128 (heterorag.generation.max-request-id-chars)",
                () -> rag.streamAnswer(valid().setRequestId("r".repeat(2 * 1024 * 1024)).build()).next());
        assertStatus(Status.Code.INVALID_ARGUMENT, "options.report_k is 1000, outside 0..64",
                () -> rag.answer(valid().setOptions(AnswerOptions.newBuilder().setReportK(1000)).build()));
        RestAssured.get("/q/health/ready").then().statusCode(200);
    }

    static void assertStatus(Status.Code code, String messagePart, Runnable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
        assertEquals(code, e.getStatus().getCode(), String.valueOf(e.getStatus().getDescription()));
        String d = String.valueOf(e.getStatus().getDescription());
        assertTrue(d.contains(messagePart), "message '" + d + "' should contain '" + messagePart + "'");
    }
}

package io.heterorag.generation.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Function;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.heterorag.proto.v1.AnswerOptions;
import io.heterorag.proto.v1.AnswerRequest;
import io.heterorag.proto.v1.ClinicalRagGrpc;
import io.heterorag.proto.v1.Image;
import io.heterorag.proto.v1.Task;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import org.junit.jupiter.api.Test;

/**
 * The public API refuses bad input with a clear status on both RPCs, and names the stage when a
 * backing service is down (nothing listens on the test ports of retrieval and querygen here; the
 * whole pipeline runs in the end-to-end test).
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
    void aDownDependencyFailsWithUnavailableNamingTheStage() {
        assertStatus(Status.Code.UNAVAILABLE, "stage reports", () -> rag.answer(valid().build()));
        // without an image the first call is query generation
        assertStatus(Status.Code.UNAVAILABLE, "stage queries", () -> rag.answer(valid().clearImage()
                .setOptions(AnswerOptions.newBuilder().setSkipReports(true)).build()));
        // report generation needs no question
        assertStatus(Status.Code.UNAVAILABLE, "stage reports", () -> rag.answer(valid().clearQuestion()
                .setTask(Task.REPORT_GENERATION).build()));
    }

    static void assertStatus(Status.Code code, String messagePart, Runnable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
        assertEquals(code, e.getStatus().getCode(), String.valueOf(e.getStatus().getDescription()));
        String d = String.valueOf(e.getStatus().getDescription());
        assertTrue(d.contains(messagePart), "message '" + d + "' should contain '" + messagePart + "'");
    }
}

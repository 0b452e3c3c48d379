package io.heterorag.querygen.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import grpc.health.v1.HealthOuterClass.HealthCheckRequest;
import grpc.health.v1.HealthOuterClass.HealthCheckResponse;
import grpc.health.v1.HealthGrpc;
import io.heterorag.proto.v1.GenerateQueriesRequest;
import io.heterorag.proto.v1.GenerateQueriesResponse;
import io.heterorag.proto.v1.QueryGenGrpc;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import org.junit.jupiter.api.Test;

@QuarkusTest
class QueryGenGrpcServiceTest {

    @GrpcClient("self")
    QueryGenGrpc.QueryGenBlockingStub querygen;

    @GrpcClient("self")
    HealthGrpc.HealthBlockingStub health;

    @Test
    void writesTaggedQueriesAndNamesTheGenerator() {
        GenerateQueriesResponse res = querygen.generateQueries(GenerateQueriesRequest.newBuilder()
                .setQuestion("Is there a pulmonary hamartoma?").build());
        assertEquals("keyword-query-builder@1", res.getGenerator());
        assertTrue(res.getTagged().contains("<book>pulmonary hamartoma</book>"), res.getTagged());
    }

    @Test
    void badInputGetsInvalidArgumentAndTheServiceStaysHealthy() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> querygen.generateQueries(GenerateQueriesRequest.getDefaultInstance()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        e = assertThrows(StatusRuntimeException.class, () -> querygen.generateQueries(GenerateQueriesRequest.newBuilder()
                .setQuestion("x y z").addCorporaValue(99).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("unknown corpus"));
        e = assertThrows(StatusRuntimeException.class, () -> querygen.generateQueries(GenerateQueriesRequest.newBuilder()
                .setQuestion("x".repeat(34 * 1024 * 1024)).build()));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
        // each field's limit, named with its key, before any work
        for (var bad : java.util.Map.of(
                "question has 8193 characters, above the limit of 8192 (heterorag.querygen.max-question-chars)",
                GenerateQueriesRequest.newBuilder().setQuestion("q".repeat(8193)).build(),
                "report_texts has 65 elements, above the limit of 64 (heterorag.querygen.max-report-texts)",
                GenerateQueriesRequest.newBuilder().setQuestion("q").addAllReportTexts(java.util.Collections.nCopies(65, "r")).build(),
                "report_texts[1] has 32769 characters, above the limit of 32768 (heterorag.querygen.max-report-chars)",
                GenerateQueriesRequest.newBuilder().setQuestion("q").addReportTexts("r").addReportTexts("r".repeat(32769)).build())
                .entrySet()) {
            StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, () -> querygen.generateQueries(bad.getValue()));
            assertEquals(Status.Code.INVALID_ARGUMENT, refused.getStatus().getCode());
            assertEquals(bad.getKey(), refused.getStatus().getDescription());
        }

        assertEquals(HealthCheckResponse.ServingStatus.SERVING,
                health.check(HealthCheckRequest.getDefaultInstance()).getStatus());
        RestAssured.get("/q/health/ready").then().statusCode(200);
    }
}

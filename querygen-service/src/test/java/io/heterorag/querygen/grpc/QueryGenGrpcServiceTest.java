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

        assertEquals(HealthCheckResponse.ServingStatus.SERVING,
                health.check(HealthCheckRequest.getDefaultInstance()).getStatus());
        RestAssured.get("/q/health/ready").then().statusCode(200);
    }
}

package io.heterorag.guard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.TimeUnit;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import grpc.health.v1.HealthOuterClass.HealthCheckRequest;
import grpc.health.v1.HealthGrpc;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.heterorag.proto.v1.GenerateQueriesRequest;
import io.heterorag.proto.v1.QueryGenGrpc;
import io.quarkus.test.common.QuarkusTestResource;
import io.restassured.RestAssured;
import org.hamcrest.Matchers;
import io.quarkus.test.junit.QuarkusTest;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * The settings `up --secure` gives a service, on a real Quarkus gRPC server: TLS only, the guard
 * registered from this library, platform services known by their client certificate, API keys.
 */
@QuarkusTest
@QuarkusTestResource(SecureServerResource.class)
class SecureQuarkusServerTest {

    @ConfigProperty(name = "quarkus.grpc.server.test-port")
    int port;

    ManagedChannel channel(boolean clientCertificate) throws Exception {
        var ssl = GrpcSslContexts.forClient().trustManager(SecureServerResource.DIR.resolve("ca.crt").toFile());
        if (clientCertificate) {
            ssl.keyManager(SecureServerResource.DIR.resolve("generation.crt").toFile(), SecureServerResource.DIR.resolve("generation.key").toFile());
        }
        return NettyChannelBuilder.forAddress("127.0.0.1", port).sslContext(ssl.build()).build();
    }

    @Test
    void thePlatformsServicesAreKnownByTheirCertificateAndOthersNeedAKey() throws Exception {
        ManagedChannel mtls = channel(true);
        ManagedChannel tls = channel(false);
        try {
            assertEquals("test@1", QueryGenGrpc.newBlockingStub(mtls).generateQueries(GenerateQueriesRequest.getDefaultInstance()).getGenerator());
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> QueryGenGrpc.newBlockingStub(tls).generateQueries(GenerateQueriesRequest.getDefaultInstance()));
            assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
            Metadata m = new Metadata();
            m.put(CallGuard.AUTHORIZATION, "Bearer " + SecureServerResource.KEY);
            assertEquals("test@1", QueryGenGrpc.newBlockingStub(tls).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(m))
                    .generateQueries(GenerateQueriesRequest.getDefaultInstance()).getGenerator());
            // probes need no credentials
            assertEquals("SERVING", HealthGrpc.newBlockingStub(tls).check(HealthCheckRequest.getDefaultInstance()).getStatus().name());
        } finally {
            mtls.shutdownNow();
            tls.shutdownNow();
        }
    }

    @Test
    void theHttpApiTakesTheSameKeysAndRoles() {
        RestAssured.given().post("/v1/answer").then().statusCode(401).contentType("application/problem+json")
                .body("grpc_status", Matchers.equalTo("UNAUTHENTICATED")).body("detail", Matchers.containsString("Bearer"));
        RestAssured.given().header("Authorization", "Bearer " + ApiKeys.newKey()).post("/v1/answer").then().statusCode(401)
                .body("detail", Matchers.equalTo("invalid API key"));
        RestAssured.given().header("Authorization", "Bearer " + SecureServerResource.ML_KEY).post("/v1/answer").then().statusCode(403)
                .body("detail", Matchers.equalTo("caller ml-team lacks the role 'clinical' that POST /v1/answer requires"));
        RestAssured.given().header("Authorization", "Bearer " + SecureServerResource.KEY).post("/v1/answer").then().statusCode(200)
                .body(Matchers.equalTo("answered"));
        // the page and its demo images load without a key
        RestAssured.given().get("/v1/demo-images").then().statusCode(200);
    }

    @Test
    void plainTextIsRefused() {
        ManagedChannel plain = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        try {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> QueryGenGrpc.newBlockingStub(plain)
                    .withDeadlineAfter(5, TimeUnit.SECONDS).generateQueries(GenerateQueriesRequest.getDefaultInstance()));
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
        } finally {
            plain.shutdownNow();
        }
    }
}

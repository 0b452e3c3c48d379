package io.heterorag.guard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.heterorag.proto.v1.AnswerRequest;
import io.heterorag.proto.v1.GenerateQueriesRequest;
import io.heterorag.proto.v1.GenerateQueriesResponse;
import io.heterorag.proto.v1.ListJobsRequest;
import io.heterorag.proto.v1.ListJobsResponse;
import io.heterorag.proto.v1.QueryGenGrpc;
import io.heterorag.proto.v1.TuningGrpc;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real TLS gRPC server (Netty) with the guard in front of two services of different roles:
 * certificates made here, plain text refused, each role allowed and refused, platform services
 * known by their client certificate, one audit line per call without message contents.
 */
class CallGuardTest {

    static final String CLINICAL_KEY = ApiKeys.newKey();
    static final String ML_KEY = ApiKeys.newKey();
    static final String MARKER = "MARKER-question-7f3a";

    @TempDir
    static Path dir;
    static Server server;
    static final List<String> audit = new CopyOnWriteArrayList<>();
    static final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            audit.add(String.format(r.getMessage().replace("%.1f", "%s"), r.getParameters()));
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeAll
    static void start() throws Exception {
        LocalCertificates.write(dir, List.of("generation", "querygen"), Duration.ofDays(1));
        ApiKeys keys = ApiKeys.of(Map.of(ApiKeys.hash(CLINICAL_KEY), new Caller("ward-7", Set.of(Caller.CLINICAL)),
                ApiKeys.hash(ML_KEY), new Caller("ml-team", Set.of(Caller.ML))));
        CallGuard guard = new CallGuard(true, keys);
        SslContext ssl = GrpcSslContexts.forServer(file("querygen.crt"), file("querygen.key")).trustManager(file("ca.crt"))
                .clientAuth(ClientAuth.OPTIONAL).build();
        server = NettyServerBuilder.forPort(0).sslContext(ssl)
                .addService(ServerInterceptors.intercept(new QueryGenGrpc.QueryGenImplBase() {
                    @Override
                    public void generateQueries(GenerateQueriesRequest request, StreamObserver<GenerateQueriesResponse> out) {
                        out.onNext(GenerateQueriesResponse.newBuilder().setGenerator("rules@1").build());
                        out.onCompleted();
                    }
                }, guard))
                .addService(ServerInterceptors.intercept(new TuningGrpc.TuningImplBase() {
                    @Override
                    public void listJobs(ListJobsRequest request, StreamObserver<ListJobsResponse> out) {
                        out.onNext(ListJobsResponse.getDefaultInstance());
                        out.onCompleted();
                    }
                }, guard))
                .build().start();
        java.util.logging.Logger.getLogger("io.heterorag.audit").addHandler(capture);
    }

    @AfterAll
    static void stop() {
        java.util.logging.Logger.getLogger("io.heterorag.audit").removeHandler(capture);
        server.shutdownNow();
    }

    static File file(String name) {
        return dir.resolve(name).toFile();
    }

    static ManagedChannel tls(boolean clientCertificate) throws Exception {
        var ssl = GrpcSslContexts.forClient().trustManager(file("ca.crt"));
        if (clientCertificate) {
            ssl.keyManager(file("generation.crt"), file("generation.key"));
        }
        return NettyChannelBuilder.forAddress("localhost", server.getPort()).sslContext(ssl.build()).build();
    }

    static <T extends io.grpc.stub.AbstractStub<T>> T bearer(T stub, String key) {
        Metadata m = new Metadata();
        m.put(CallGuard.AUTHORIZATION, "Bearer " + key);
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(m));
    }

    static Status.Code code(Runnable call) {
        return assertThrows(StatusRuntimeException.class, call::run).getStatus().getCode();
    }

    @Test
    void plainTextIsRefused() {
        ManagedChannel plain = NettyChannelBuilder.forAddress("localhost", server.getPort()).usePlaintext().build();
        try {
            assertEquals(Status.Code.UNAVAILABLE, code(() -> bearer(TuningGrpc.newBlockingStub(plain), ML_KEY)
                    .withDeadlineAfter(5, TimeUnit.SECONDS).listJobs(ListJobsRequest.getDefaultInstance())));
        } finally {
            plain.shutdownNow();
        }
    }

    @Test
    void callersWithoutCredentialsOrWithABadKeyAreUnauthenticatedWithAMessage() throws Exception {
        ManagedChannel ch = tls(false);
        try {
            StatusRuntimeException none = assertThrows(StatusRuntimeException.class,
                    () -> TuningGrpc.newBlockingStub(ch).listJobs(ListJobsRequest.getDefaultInstance()));
            assertEquals(Status.Code.UNAUTHENTICATED, none.getStatus().getCode());
            assertTrue(none.getStatus().getDescription().contains("authorization: Bearer"), none.getStatus().getDescription());
            StatusRuntimeException bad = assertThrows(StatusRuntimeException.class,
                    () -> bearer(TuningGrpc.newBlockingStub(ch), ApiKeys.newKey()).listJobs(ListJobsRequest.getDefaultInstance()));
            assertEquals(Status.Code.UNAUTHENTICATED, bad.getStatus().getCode());
            assertEquals("invalid API key", bad.getStatus().getDescription());
        } finally {
            ch.shutdownNow();
        }
    }

    @Test
    void eachRoleIsAllowedWhereItBelongsAndRefusedElsewhere() throws Exception {
        ManagedChannel ch = tls(false);
        try {
            assertEquals(0, bearer(TuningGrpc.newBlockingStub(ch), ML_KEY).listJobs(ListJobsRequest.getDefaultInstance()).getJobsCount());
            StatusRuntimeException denied = assertThrows(StatusRuntimeException.class,
                    () -> bearer(TuningGrpc.newBlockingStub(ch), CLINICAL_KEY).listJobs(ListJobsRequest.getDefaultInstance()));
            assertEquals(Status.Code.PERMISSION_DENIED, denied.getStatus().getCode());
            assertEquals("caller ward-7 lacks the role 'ml' that heterorag.v1.Tuning requires", denied.getStatus().getDescription());
            // the internal API is for the platform's services, not for API keys without the internal role
            assertEquals(Status.Code.PERMISSION_DENIED, code(() -> bearer(QueryGenGrpc.newBlockingStub(ch), ML_KEY)
                    .generateQueries(GenerateQueriesRequest.getDefaultInstance())));
        } finally {
            ch.shutdownNow();
        }
    }

    @Test
    void aPlatformServiceIsKnownByItsClientCertificateAndHoldsOnlyTheInternalRole() throws Exception {
        ManagedChannel ch = tls(true);
        try {
            assertEquals("rules@1", QueryGenGrpc.newBlockingStub(ch).generateQueries(GenerateQueriesRequest.getDefaultInstance()).getGenerator());
            assertEquals(Status.Code.PERMISSION_DENIED, code(() -> TuningGrpc.newBlockingStub(ch).listJobs(ListJobsRequest.getDefaultInstance())));
            assertTrue(audit.stream().anyMatch(l -> l.startsWith("caller=service:generation method=heterorag.v1.QueryGen/GenerateQueries status=OK")),
                    String.join("\n", audit));
        } finally {
            ch.shutdownNow();
        }
    }

    @Test
    void aClientChannelFromTheSecureSettingsIsKnownAsItsService() throws Exception {
        Map<String, String> settings = SecureSettings.server(dir, "generation");
        ManagedChannel ch = SecureSettings.clientChannel("localhost:" + server.getPort(), "querygen", k -> Optional.ofNullable(settings.get(k)));
        try {
            assertEquals("rules@1", QueryGenGrpc.newBlockingStub(ch).generateQueries(GenerateQueriesRequest.getDefaultInstance()).getGenerator());
            assertTrue(audit.stream().anyMatch(l -> l.startsWith("caller=service:generation method=heterorag.v1.QueryGen/GenerateQueries")),
                    String.join("\n", audit));
        } finally {
            ch.shutdownNow();
        }
        ManagedChannel plain = SecureSettings.clientChannel("localhost:" + server.getPort(), "querygen", k -> Optional.empty());
        try {
            assertEquals(Status.Code.UNAVAILABLE, code(() -> QueryGenGrpc.newBlockingStub(plain).generateQueries(GenerateQueriesRequest.getDefaultInstance())),
                    "without the settings the channel is plain text, which the TLS server refuses");
        } finally {
            plain.shutdownNow();
        }
    }

    @Test
    void everyCallLeavesOneAuditLineWithSizesAndNoMessageContents() throws Exception {
        ManagedChannel ch = tls(true);
        try {
            audit.clear();
            GenerateQueriesRequest req = GenerateQueriesRequest.newBuilder().setQuestion(MARKER).addReportTexts(MARKER).build();
            QueryGenGrpc.newBlockingStub(ch).generateQueries(req);
            assertEquals(1, audit.size(), String.join("\n", audit));
            String line = audit.get(0);
            assertTrue(line.contains("request_bytes=" + req.getSerializedSize()), line);
            assertTrue(line.contains("response_bytes=" + GenerateQueriesResponse.newBuilder().setGenerator("rules@1").build().getSerializedSize()), line);
            assertFalse(line.contains(MARKER), line);
        } finally {
            ch.shutdownNow();
        }
    }

    @Test
    void requestIdsAreLoggedOnlyWhenShortAndPlain() {
        assertEquals("req-42", CallGuard.requestId(AnswerRequest.newBuilder().setRequestId("req-42").setQuestion(MARKER).build()));
        assertEquals("(70 chars, not logged)", CallGuard.requestId(AnswerRequest.newBuilder().setRequestId("x".repeat(70)).build()));
        assertEquals("(9 chars, not logged)", CallGuard.requestId(AnswerRequest.newBuilder().setRequestId("a b\nc=d e").build()));
        assertEquals("-", CallGuard.requestId(GenerateQueriesRequest.newBuilder().setQuestion(MARKER).build()));
    }

    @Test
    void eachServiceNeedsItsRoleAndHealthChecksStayOpen() {
        assertEquals(Caller.CLINICAL, CallGuard.requiredRole("heterorag.v1.ClinicalRag/Answer"));
        assertEquals(Caller.ML, CallGuard.requiredRole("heterorag.v1.Tuning/StartJob"));
        assertEquals(Caller.INGEST, CallGuard.requiredRole("heterorag.v1.Retrieval/Ingest"));
        assertEquals(Caller.INTERNAL, CallGuard.requiredRole("heterorag.v1.Retrieval/SearchCorpus"));
        assertEquals(Caller.INTERNAL, CallGuard.requiredRole("heterorag.v1.QueryGen/GenerateQueries"));
        assertNull(CallGuard.requiredRole("grpc.health.v1.Health/Check"));
    }

    @Test
    void theKeyFileStoresHashesAndRejectsUnknownRoles(@TempDir Path tmp) throws Exception {
        String key = ApiKeys.newKey();
        Path f = tmp.resolve("api-keys");
        java.nio.file.Files.writeString(f, "# comment\n" + ApiKeys.line(key, "ops", Set.of(Caller.ML, Caller.INGEST)) + "\n");
        assertFalse(java.nio.file.Files.readString(f).contains(key), "only the hash is stored");
        assertEquals(new Caller("ops", Set.of(Caller.ML, Caller.INGEST)), ApiKeys.read(f).caller(key).orElseThrow());
        assertTrue(ApiKeys.read(f).caller(key + "x").isEmpty());
        java.nio.file.Files.writeString(f, ApiKeys.hash(key) + " ops admin\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ApiKeys.read(f));
        assertTrue(e.getMessage().contains("line 1: unknown role admin"), e.getMessage());
    }
}

package io.heterorag.retrieval.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.google.protobuf.ByteString;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.GetStatsRequest;
import io.heterorag.proto.v1.Image;
import io.heterorag.proto.v1.IngestRequest;
import io.heterorag.proto.v1.KnowledgeHit;
import io.heterorag.proto.v1.RetrievalGrpc;
import io.heterorag.proto.v1.RetrieveReportsRequest;
import io.heterorag.proto.v1.RetrieveReportsResponse;
import io.heterorag.proto.v1.SearchCorpusRequest;
import io.heterorag.retrieval.TestData;
import io.heterorag.store.QdrantTestServer;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The whole service on the Qdrant backend (heterorag.store.backend=qdrant), talking gRPC to the Qdrant
 * test endpoint: ingest, report retrieval, corpus and graph search, stats and readiness.
 */
@QuarkusTest
@TestProfile(QdrantBackendTest.OnQdrant.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class QdrantBackendTest {

    public static class OnQdrant implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(Endpoint.class));
        }
    }

    public static class Endpoint implements QuarkusTestResourceLifecycleManager {
        static QdrantTestServer server;

        @Override
        public Map<String, String> start() {
            server = new QdrantTestServer();
            return Map.of("heterorag.store.backend", "qdrant", "heterorag.store.qdrant.host", "127.0.0.1",
                    "heterorag.store.qdrant.port", Integer.toString(server.port()));
        }

        @Override
        public void stop() {
            server.close();
        }
    }

    @GrpcClient("self")
    RetrievalGrpc.RetrievalBlockingStub retrieval;

    @Test
    @Order(1)
    void ingestAndEverySearchRunOnQdrant() {
        String run = UUID.randomUUID().toString().substring(0, 8);
        var res = retrieval.ingest(IngestRequest.newBuilder()
                .addRecords(TestData.report(run + "-a", "MPX1033_synpic45450", "Axial CT of the chest."))
                .addRecords(TestData.report(run + "-b", "MPX1034_synpic39422", "MR of the knee."))
                .addRecords(TestData.document(run + "-cc", Corpus.BOOK, "Agenesis of the Corpus Callosum",
                        "Complete or partial absence of the corpus callosum, with colpocephaly and parallel lateral ventricles."))
                .addRecords(TestData.document(run + "-ap", Corpus.BOOK, "Appendicitis",
                        "Inflammation of the appendix, with a dilated non-compressible appendix and periappendiceal fat stranding."))
                .addRecords(TestData.term(run + "-C1", "Appendicitis", "Inflammation of the vermiform appendix."))
                .addRecords(TestData.relation(run + "-C1", "Appendicitis", "may be treated by", run + "-P1", "appendectomy"))
                .build());
        assertEquals(6, res.getStored(), res.toString());

        RetrieveReportsResponse reports = retrieval.retrieveReports(RetrieveReportsRequest.newBuilder()
                .setImage(Image.newBuilder().setData(ByteString.copyFrom(TestData.image("MPX1034_synpic39422")))).setK(2).setFixedK(true)
                .build());
        assertEquals(run + "-b", reports.getReports(0).getId());
        assertEquals(1.0, reports.getReports(0).getScore(), 1e-3);
        assertEquals("medpix-2.0", reports.getReports(0).getSource());

        List<KnowledgeHit> hits = retrieval.searchCorpus(SearchCorpusRequest.newBuilder().setCorpus(Corpus.BOOK)
                .setQuery("absent corpus callosum with parallel ventricles").setK(2).build()).getHitsList();
        assertEquals(run + "-cc#0", hits.get(0).getId());
        List<KnowledgeHit> graph = retrieval.searchCorpus(SearchCorpusRequest.newBuilder().setCorpus(Corpus.GRAPH)
                .setQuery("appendicitis,treatment").build()).getHitsList();
        assertEquals("Inflammation of the vermiform appendix.", graph.get(0).getText());
        assertEquals("Appendicitis may be treated by appendectomy", graph.get(1).getText());

        assertEquals(2, retrieval.getStats(GetStatsRequest.getDefaultInstance()).getEntriesOrThrow("reports-radiology"));
        assertTrue(Endpoint.server.collectionNames().containsAll(List.of("heterorag_reports-radiology", "heterorag_corpus-book",
                "heterorag_corpus-graph")), Endpoint.server.collectionNames().toString());
        RestAssured.get("/q/health/ready").then().statusCode(200);
    }

    @Test
    @Order(2)
    void anUnreachableQdrantMakesTheServiceNotReady() {
        Endpoint.server.close();
        RestAssured.get("/q/health/ready").then().statusCode(503);
    }
}

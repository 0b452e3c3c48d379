package io.heterorag.retrieval.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.UUID;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.heterorag.proto.v1.AtlasRecord;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.GetStatsRequest;
import io.heterorag.proto.v1.Image;
import io.heterorag.proto.v1.IngestRequest;
import io.heterorag.proto.v1.IngestResponse;
import io.heterorag.proto.v1.KnowledgeHit;
import io.heterorag.proto.v1.RetrievalGrpc;
import io.heterorag.proto.v1.RetrieveReportsRequest;
import io.heterorag.proto.v1.RetrieveReportsResponse;
import io.heterorag.proto.v1.SearchCorpusRequest;
import io.heterorag.retrieval.TestData;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import org.junit.jupiter.api.Test;

@QuarkusTest
class RetrievalGrpcServiceTest {

    static final String IMG_A = "MPX1007_synpic46719";
    static final String IMG_B = "MPX1009_synpic46283";
    static final String IMG_C = "MPX1012_synpic22949";

    @GrpcClient("self")
    RetrievalGrpc.RetrievalBlockingStub retrieval;

    @Test
    void ingestedImageRetrievesItsOwnReportFirstAndReingestChangesNothing() {
        String run = UUID.randomUUID().toString();
        List<AtlasRecord> records = List.of(
                TestData.report(run + "-a", IMG_A, "Axial MR of the brain."),
                TestData.report(run + "-b", IMG_B, "CT of the abdomen."),
                TestData.report(run + "-c", IMG_C, "CT of the pelvis."));
        IngestResponse first = retrieval.ingest(IngestRequest.newBuilder().addAllRecords(records).build());
        assertEquals(3, first.getStored());
        IngestResponse again = retrieval.ingest(IngestRequest.newBuilder().addAllRecords(records).build());
        assertEquals(0, again.getStored());
        assertEquals(3, again.getUnchanged());

        RetrieveReportsResponse res = retrieval.retrieveReports(RetrieveReportsRequest.newBuilder()
                .setImage(Image.newBuilder().setData(ByteString.copyFrom(TestData.image(IMG_B))).setMediaType("image/jpeg"))
                .setK(3).setFixedK(true).build());
        assertEquals(3, res.getChosenK());
        assertTrue(res.getReportsList().stream().anyMatch(r -> r.getId().equals(run + "-b")));
        assertEquals(1.0, res.getReports(0).getScore(), 1e-3, "an ingested image is its own nearest neighbour");
        assertEquals("CT of the abdomen.", res.getReports(0).getText());
        assertEquals("test", res.getReports(0).getMetadataOrThrow("diagnosis"));
    }

    @Test
    void corpusSearchFindsTheDocumentAboutTheQuery() {
        String run = UUID.randomUUID().toString();
        retrieval.ingest(IngestRequest.newBuilder()
                .addRecords(TestData.document(run + "-cc", Corpus.GUIDELINE, "Agenesis of the Corpus Callosum " + run,
                        "Complete or partial absence of the corpus callosum, with colpocephaly and parallel lateral ventricles."))
                .addRecords(TestData.document(run + "-ap", Corpus.GUIDELINE, "Appendicitis " + run,
                        "Inflammation of the appendix, with a dilated non-compressible appendix and periappendiceal fat stranding."))
                .build());
        List<KnowledgeHit> hits = retrieval.searchCorpus(SearchCorpusRequest.newBuilder().setCorpus(Corpus.GUIDELINE)
                .setQuery("absent corpus callosum with parallel ventricles").setK(2).build()).getHitsList();
        assertEquals(run + "-cc#0", hits.get(0).getId());
        assertEquals(Corpus.GUIDELINE, hits.get(0).getCorpus());
    }

    @Test
    void aNearIdenticalImageUnderAnotherIdIsNotStoredTwice() throws Exception {
        String run = UUID.randomUUID().toString();
        String image = "MPX1024_synpic40275";
        assertEquals(1, retrieval.ingest(IngestRequest.newBuilder().addRecords(TestData.report(run + "-orig", image, "original")).build())
                .getStored());
        // the same image re-encoded as PNG at half size, sent under another id
        java.awt.image.BufferedImage src = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(TestData.image(image)));
        java.awt.image.BufferedImage half = new java.awt.image.BufferedImage(src.getWidth() / 2, src.getHeight() / 2,
                java.awt.image.BufferedImage.TYPE_INT_RGB);
        half.createGraphics().drawImage(src, 0, 0, half.getWidth(), half.getHeight(), null);
        java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
        javax.imageio.ImageIO.write(half, "png", png);
        AtlasRecord copy = TestData.report(run + "-copy", image, "copy").toBuilder().setReport(TestData.report(run + "-copy", image, "copy")
                .getReport().toBuilder().setImage(Image.newBuilder().setMediaType("image/png").setData(ByteString.copyFrom(png.toByteArray()))))
                .build();
        long before = retrieval.getStats(GetStatsRequest.getDefaultInstance()).getEntriesOrThrow("reports-radiology");
        IngestResponse res = retrieval.ingest(IngestRequest.newBuilder().addRecords(copy)
                // a record's own new version is not a duplicate of itself
                .addRecords(TestData.report(run + "-orig", image, "original, corrected")).build());
        assertEquals(1, res.getStored());
        assertEquals(1, res.getDuplicatesCount());
        assertEquals(run + "-copy", res.getDuplicates(0).getId());
        assertEquals(run + "-orig", res.getDuplicates(0).getDuplicateOf());
        assertTrue(res.getDuplicates(0).getDistance() <= 2);
        assertEquals(before, retrieval.getStats(GetStatsRequest.getDefaultInstance()).getEntriesOrThrow("reports-radiology"));
    }

    @Test
    void aGraphQueryReturnsTheDefinitionThenRelationsRankedByTheRelationText() {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String pneumonia = "Pneumonia " + run;
        retrieval.ingest(IngestRequest.newBuilder()
                .addRecords(TestData.term(run + "-C1", pneumonia, "Inflammation of the lung parenchyma, usually infectious."))
                .addRecords(TestData.term(run + "-C2", "Pneumothorax " + run, "Air in the pleural space."))
                .addRecords(TestData.relation(run + "-C1", pneumonia, "may be treated by", run + "-D1", "amoxicillin"))
                .addRecords(TestData.relation(run + "-C1", pneumonia, "has finding site", run + "-A1", "lung"))
                .addRecords(TestData.relation(run + "-C1", pneumonia, "is a", run + "-C9", "lower respiratory tract infection"))
                .addRecords(TestData.relation(run + "-C2", "Pneumothorax " + run, "may be treated by", run + "-P1", "chest tube"))
                .build());
        List<KnowledgeHit> hits = retrieval.searchCorpus(SearchCorpusRequest.newBuilder().setCorpus(Corpus.GRAPH)
                .setQuery(pneumonia + ",treatment drug").build()).getHitsList();
        assertEquals("term:" + run + "-C1", hits.get(0).getId());
        assertEquals("Inflammation of the lung parenchyma, usually infectious.", hits.get(0).getText());
        assertEquals(4, hits.size(), "the definition and the term's own three relations only");
        assertEquals(pneumonia + " may be treated by amoxicillin", hits.get(1).getText());
        assertEquals(pneumonia + " has finding site lung",
                retrieval.searchCorpus(SearchCorpusRequest.newBuilder().setCorpus(Corpus.GRAPH)
                        .setQuery(pneumonia.toLowerCase() + ", anatomical site").build()).getHits(1).getText());
        assertEquals(0, retrieval.searchCorpus(SearchCorpusRequest.newBuilder().setCorpus(Corpus.GRAPH)
                .setQuery("zzqx" + run + ",is a").build()).getHitsCount(), "no such term: nothing, not a random term");
    }

    @Test
    void invalidRecordsAreRejectedWithReasonsAndTheRestStored() {
        String run = UUID.randomUUID().toString();
        IngestResponse res = retrieval.ingest(IngestRequest.newBuilder()
                .addRecords(TestData.report(run + "-ok", "MPX1016_synpic34317", "ok"))
                .addRecords(TestData.report(run + "-bad", IMG_A, "x").toBuilder()
                        .setReport(TestData.report("", IMG_A, "x").getReport().toBuilder()
                                .setImage(Image.newBuilder().setData(ByteString.copyFromUtf8("not an image")))).build())
                .addRecords(TestData.document(run + "-empty", Corpus.BOOK, "t", " "))
                .build());
        assertEquals(1, res.getStored());
        assertEquals(2, res.getRejectedCount());
        assertTrue(res.getRejected(0).getReason().contains("neither PNG, JPEG"), res.getRejected(0).getReason());
    }

    @Test
    void badInputGetsAClearStatusAndTheServiceStaysHealthy() {
        assertStatus(Status.Code.INVALID_ARGUMENT, "image is empty", () -> retrieval.retrieveReports(
                RetrieveReportsRequest.newBuilder().build()));
        byte[] jpeg = TestData.image(IMG_A);
        byte[] truncated = Arrays.copyOf(jpeg, 200);
        assertStatus(Status.Code.INVALID_ARGUMENT, "corrupt jpeg", () -> retrieval.retrieveReports(
                RetrieveReportsRequest.newBuilder().setImage(Image.newBuilder().setData(ByteString.copyFrom(truncated))).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "does not match", () -> retrieval.retrieveReports(
                RetrieveReportsRequest.newBuilder().setImage(Image.newBuilder().setData(ByteString.copyFrom(jpeg))
                        .setMediaType("image/png")).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "unknown modality", () -> retrieval.retrieveReports(
                RetrieveReportsRequest.newBuilder().setModalityValue(42)
                        .setImage(Image.newBuilder().setData(ByteString.copyFrom(jpeg))).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "corpus", () -> retrieval.searchCorpus(
                SearchCorpusRequest.newBuilder().setQuery("x").build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "query is empty", () -> retrieval.searchCorpus(
                SearchCorpusRequest.newBuilder().setCorpus(Corpus.BOOK).build()));
        assertStatus(Status.Code.RESOURCE_EXHAUSTED, "", () -> retrieval.retrieveReports(RetrieveReportsRequest.newBuilder()
                .setImage(Image.newBuilder().setData(ByteString.copyFrom(new byte[33 * 1024 * 1024]))).build()));

        // each field's limit, named with its key, before any work
        assertStatus(Status.Code.INVALID_ARGUMENT, "query has 8193 characters, above the limit of 8192 (heterorag.retrieval.max-query-chars)",
                () -> retrieval.searchCorpus(SearchCorpusRequest.newBuilder().setCorpus(Corpus.BOOK).setQuery("q".repeat(8193)).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "records has 1001 elements, above the limit of 1000 (heterorag.retrieval.max-ingest-records)",
                () -> retrieval.ingest(io.heterorag.proto.v1.IngestRequest.newBuilder().addAllRecords(java.util.Collections.nCopies(1001,
                        io.heterorag.proto.v1.AtlasRecord.newBuilder().setId("x").build())).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "records[0].document.content has 1048577 characters, above the limit of 1048576",
                () -> retrieval.ingest(io.heterorag.proto.v1.IngestRequest.newBuilder().addRecords(io.heterorag.proto.v1.AtlasRecord.newBuilder()
                        .setId("big").setDocument(io.heterorag.proto.v1.DocumentRecord.newBuilder().setContent("d".repeat(1024 * 1024 + 1)))).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "records[0].id has 257 characters", () -> retrieval.ingest(io.heterorag.proto.v1.IngestRequest
                .newBuilder().addRecords(io.heterorag.proto.v1.AtlasRecord.newBuilder().setId("i".repeat(257))).build()));
        assertFalse(retrieval.getStats(GetStatsRequest.getDefaultInstance()).getEntriesMap().isEmpty());
        RestAssured.get("/q/health/ready").then().statusCode(200);
    }

    @Test
    void dicomIsReadAndItsModalityTagChoosesTheRepository() throws Exception {
        java.nio.file.Path dicom = java.nio.file.Path.of("../model-runtime/src/test/resources/dicom");
        RetrieveReportsResponse res = retrieval.retrieveReports(RetrieveReportsRequest.newBuilder().setImage(Image.newBuilder()
                .setMediaType("application/dicom").setData(ByteString.copyFrom(java.nio.file.Files.readAllBytes(dicom.resolve("CT_small.dcm")))))
                .build());
        assertEquals(io.heterorag.proto.v1.Modality.RADIOLOGY, res.getModality());
        // compressed DICOM is decoded (RLE here); what no library decodes is refused naming its transfer syntax
        assertEquals(io.heterorag.proto.v1.Modality.RADIOLOGY, retrieval.retrieveReports(RetrieveReportsRequest.newBuilder()
                .setImage(Image.newBuilder().setData(ByteString.copyFrom(readUnchecked(dicom.resolve("MR_small_RLE.dcm"))))).build()).getModality());
        assertStatus(Status.Code.INVALID_ARGUMENT, "JPEG-LS Lossless", () -> retrieval.retrieveReports(RetrieveReportsRequest.newBuilder()
                .setImage(Image.newBuilder().setData(ByteString.copyFrom(readUnchecked(dicom.resolve("MR_small_jpeg_ls_lossless.dcm"))))).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "pixel data is cut short", () -> retrieval.retrieveReports(RetrieveReportsRequest.newBuilder()
                .setImage(Image.newBuilder().setData(ByteString.copyFrom(readUnchecked(dicom.resolve("MR_truncated.dcm"))))).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "frame 3 asked, the DICOM image has 2 frame(s)", () -> retrieval.retrieveReports(
                RetrieveReportsRequest.newBuilder().setImage(Image.newBuilder().setFrame(3)
                        .setData(ByteString.copyFrom(readUnchecked(dicom.resolve("SC_rgb_rle_2frame.dcm"))))).build()));
    }

    static byte[] readUnchecked(java.nio.file.Path p) {
        try {
            return java.nio.file.Files.readAllBytes(p);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void metricsAreExposedForPrometheus() {
        RestAssured.get("/q/metrics").then().statusCode(200)
                .body(org.hamcrest.Matchers.containsString("jvm_memory_used_bytes"));
    }

    static void assertStatus(Status.Code code, String messagePart, Runnable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
        assertEquals(code, e.getStatus().getCode(), String.valueOf(e.getStatus().getDescription()));
        String d = String.valueOf(e.getStatus().getDescription());
        assertTrue(d.contains(messagePart), "message '" + d + "' should contain '" + messagePart + "'");
    }
}

package io.heterorag.retrieval.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.heterorag.model.image.ImageDecoder;
import io.heterorag.model.image.PerceptualHash;
import io.heterorag.proto.v1.AtlasRecord;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.DocumentRecord;
import io.heterorag.proto.v1.DuplicateRecord;
import io.heterorag.proto.v1.GraphRelationRecord;
import io.heterorag.proto.v1.GraphTermRecord;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.RejectedRecord;
import io.heterorag.proto.v1.ReportRecord;
import io.heterorag.retrieval.SharedModels;
import io.heterorag.retrieval.TestData;
import io.heterorag.retrieval.model.Models;
import io.heterorag.retrieval.store.CollectionFactory;
import io.heterorag.retrieval.store.ReportRepositories;
import io.heterorag.retrieval.store.VectorStore;
import io.heterorag.store.VectorCollection;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ingest as one class over real parts (embedded collections, MiniLM, the baseline image encoder,
 * real MedPix images): what is rejected and why, what is stored and how it is embedded, what is
 * skipped as unchanged or dropped as a near-duplicate.
 */
class AtlasIngestorTest {

    static final String IMG_A = "MPX1020_synpic17477";
    static final String IMG_B = "MPX1022_synpic17356";

    @TempDir
    Path dir;

    Models models;
    VectorStore store;
    ReportRepositories reports;
    SimpleMeterRegistry registry;
    AtlasIngestor ingestor;

    @BeforeEach
    void open() {
        models = SharedModels.get();
        CollectionFactory factory = new CollectionFactory(dir, "embedded", "localhost", 6334, false, " ", "t_", 16, 100, true, 1, 1,
                256, 30);
        store = new VectorStore(factory);
        reports = new ReportRepositories(factory, models, "test-replica", 200);
        registry = new SimpleMeterRegistry();
        ingestor = new AtlasIngestor(store, reports, models, registry, 2);
    }

    static Map<String, String> reasons(List<RejectedRecord> rejected) {
        Map<String, String> out = new HashMap<>();
        rejected.forEach(r -> out.put(r.getId(), r.getReason()));
        return out;
    }

    static float cosine(float[] a, float[] b) {
        float s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    float[] text(String s) {
        return models.text().embed(List.of(s))[0];
    }

    @Test
    void invalidRecordsAreRejectedWithTheirReasonAndTheRestStored() {
        AtlasIngestor.Result r = ingestor.ingest(List.of(
                TestData.document("", Corpus.BOOK, "T", "text"),
                TestData.report("no-modality", IMG_A, "x").toBuilder().setReport(TestData.report("x", IMG_A, "x").getReport().toBuilder()
                        .setModality(Modality.MODALITY_UNSPECIFIED)).build(),
                TestData.document("graph-doc", Corpus.GRAPH, "T", "text"),
                TestData.document("no-corpus", Corpus.CORPUS_UNSPECIFIED, "T", "text"),
                AtlasRecord.newBuilder().setId("empty").build(),
                TestData.report("blank-report", IMG_A, "  "),
                TestData.document("blank-doc", Corpus.WIKI, "T", " "),
                AtlasRecord.newBuilder().setId("term-no-id").setTerm(GraphTermRecord.newBuilder().setName("Lung")).build(),
                AtlasRecord.newBuilder().setId("term-no-name").setTerm(GraphTermRecord.newBuilder().setTermId("t")).build(),
                rel("rel-no-head", "", "causes", "t2"), rel("rel-no-tail", "t1", "causes", ""), rel("rel-no-relation", "t1", "", "t2"),
                AtlasRecord.newBuilder().setId("bad-image").setReport(ReportRecord.newBuilder().setModality(Modality.RADIOLOGY)
                        .setText("t").setImage(io.heterorag.proto.v1.Image.newBuilder()
                                .setData(com.google.protobuf.ByteString.copyFromUtf8("not an image")))).build(),
                TestData.document("ok", Corpus.WIKI, "Lung", "The lung exchanges gas.")));
        Map<String, String> why = reasons(r.rejected());
        assertEquals(13, why.size(), why.toString());
        assertEquals("record id is empty", why.get(""));
        assertEquals("report modality is missing or unknown", why.get("no-modality"));
        assertEquals("document corpus is missing or unknown (graph takes terms and relations)", why.get("graph-doc"));
        assertEquals(why.get("graph-doc"), why.get("no-corpus"));
        assertEquals("record has no report, document, term or relation", why.get("empty"));
        assertEquals("report text is empty", why.get("blank-report"));
        assertEquals("document content is empty", why.get("blank-doc"));
        assertEquals("term needs a term_id and a name", why.get("term-no-id"));
        assertEquals("term needs a term_id and a name", why.get("term-no-name"));
        for (String id : List.of("rel-no-head", "rel-no-tail", "rel-no-relation")) {
            assertEquals("relation needs a head_id, a relation and a tail_id", why.get(id), id);
        }
        assertTrue(why.containsKey("bad-image"));
        assertEquals(1, r.stored());
        assertEquals(0, r.unchanged());
        assertEquals(1, store.corpus(Corpus.WIKI).count());
    }

    static AtlasRecord rel(String id, String head, String relation, String tail) {
        return AtlasRecord.newBuilder().setId(id).setRelation(GraphRelationRecord.newBuilder().setHeadId(head).setHeadName("H")
                .setRelation(relation).setTailId(tail).setTailName("T")).build();
    }

    @Test
    void documentsAreChunkedAndEachChunkIsEmbeddedWithItsTitle() {
        String content = "The pleura lines the lung and the chest wall. ".repeat(40); // 1,840 characters: 3 chunks of at most 1,000
        List<String> chunks = new Chunker(1000, 200).chunk(content);
        assertEquals(3, chunks.size());
        AtlasIngestor.Result r = ingestor.ingest(List.of(TestData.document("pleura", Corpus.BOOK, "Pleura", content)));
        assertEquals(1, r.stored());
        VectorCollection book = store.corpus(Corpus.BOOK);
        assertEquals(3, book.count());
        Map<String, VectorCollection.Entry> stored = new HashMap<>();
        book.forEach(e -> stored.put(e.id(), e));
        assertEquals(List.of("pleura#0", "pleura#1", "pleura#2"), stored.keySet().stream().sorted().toList());
        for (int c = 0; c < 3; c++) {
            VectorCollection.Entry e = stored.get("pleura#" + c);
            assertEquals("Pleura", e.title());
            assertEquals(chunks.get(c), e.text());
            assertEquals("pleura", e.group(), "the chunks are replaced together");
            assertEquals(Map.of("source", "test", "document_id", "pleura", "corpus", "book"), e.metadata());
        }
        VectorCollection.Hit best = book.nearest(text("Pleura. " + chunks.get(2)), 1).get(0);
        assertTrue(best.score() > 0.95f, "chunks are embedded: " + best.score());
        // unchanged: skipped before embedding; changed: its chunks replaced
        AtlasIngestor.Result again = ingestor.ingest(List.of(TestData.document("pleura", Corpus.BOOK, "Pleura", content)));
        assertEquals(0, again.stored());
        assertEquals(1, again.unchanged());
        AtlasIngestor.Result changed = ingestor.ingest(List.of(TestData.document("pleura", Corpus.BOOK, "Pleura", "Short now.")));
        assertEquals(1, changed.stored());
        assertEquals(0, changed.unchanged());
        assertEquals(1, book.count());
        assertEquals(2.0, registry.get("heterorag_ingested_records").tag("collection", "corpus-book").counter().count(),
                "two records stored, none counted for the unchanged one");
        assertEquals(2, registry.get("heterorag_ingest_stage").tag("stage", "upsert").tag("collection", "corpus-book").timer().count());
        assertEquals(3, registry.get("heterorag_ingest_stage").tag("stage", "validate").tag("collection", "corpus-book").timer().count());
    }

    static final List<String> NAMES = List.of("Pneumothorax", "Hamartoma", "Appendicitis", "Cholecystitis", "Meningioma", "Sarcoidosis",
            "Osteosarcoma", "Glioblastoma", "Pancreatitis", "Diverticulitis", "Atelectasis", "Bronchiectasis", "Hydronephrosis",
            "Cardiomegaly", "Splenomegaly", "Endometriosis", "Lymphoma", "Nephrolithiasis");

    @Test
    void termsAreEmbeddedByNameAndRelationsByRelationAndTailAcrossBulkBatches() {
        List<AtlasRecord> records = new ArrayList<>();
        int n = Models.BULK_BATCH + 2;
        for (int i = 0; i < n; i++) {
            records.add(TestData.term("t" + i, NAMES.get(i), "Definition " + i));
        }
        records.add(TestData.relation("t1", NAMES.get(1), "treated_by", "t2", "Chest tube"));
        AtlasIngestor.Result r = ingestor.ingest(records);
        assertEquals(n + 1, r.stored());
        VectorCollection graph = store.corpus(Corpus.GRAPH);
        assertEquals(n + 1, graph.count());
        for (int i : new int[] {0, Models.BULK_BATCH - 1, Models.BULK_BATCH, n - 1}) {
            // the embedding of the name alone differs a little from the batched one (the int8 encoder quantizes per batch)
            VectorCollection.Hit h = graph.nearest(text(NAMES.get(i)), 1, 50, Map.of("kind", "term")).get(0);
            assertEquals("term:t" + i, h.id(), "term " + i + " embedded by its name");
            assertTrue(h.score() > 0.97f, h.score() + "");
            assertEquals("Definition " + i, h.text());
            assertEquals(Map.of("source", "test", "kind", "term", "term_id", "t" + i, "corpus", "graph"), h.metadata());
        }
        VectorCollection.Hit rel = graph.nearest(text("treated_by Chest tube"), 1, 50, Map.of("kind", "relation")).get(0);
        assertTrue(rel.score() > 0.97f, rel.score() + "");
        assertEquals("Hamartoma", rel.title());
        assertEquals("Hamartoma treated_by Chest tube", rel.text());
        assertEquals(Map.of("source", "test", "kind", "relation", "head_id", "t1", "relation", "treated_by", "tail_id", "t2",
                "corpus", "graph"), rel.metadata());
    }

    @Test
    void reportsAreEmbeddedWithTheirHashAndNearDuplicatesAreDropped() {
        AtlasIngestor.Result r = ingestor.ingest(List.of(TestData.report("a", IMG_A, "Report a."), TestData.report("b", IMG_B, "Report b."),
                TestData.report("a-again", IMG_A, "Same image, another id.")));
        assertEquals(2, r.stored());
        assertEquals(List.of(DuplicateRecord.newBuilder().setId("a-again").setDuplicateOf("a").setDistance(0).build()), r.duplicates());
        long hashA = PerceptualHash.of(ImageDecoder.decode(TestData.image(IMG_A), ""));
        try (ReportRepositories.Lease l = reports.lease(Modality.RADIOLOGY)) {
            assertEquals(2, l.collection().count());
            float[] v = l.encoder().embed(List.of(ImageDecoder.decode(TestData.image(IMG_A), "")))[0];
            VectorCollection.Hit h = l.collection().nearest(v, 1).get(0);
            assertEquals("a", h.id());
            assertEquals(1f, h.score(), 1e-4f);
            assertEquals("Report a.", h.text());
            assertEquals("", h.title());
            assertEquals(Map.of("diagnosis", "test", "source", "medpix-2.0", "modality", "radiology", "phash", Long.toHexString(hashA)),
                    h.metadata());
        }

        // a later batch, and another ingestor over the same repository (a restart: hashes read back from it)
        assertEquals("a", ingestor.ingest(List.of(TestData.report("c", IMG_A, "c"))).duplicates().get(0).getDuplicateOf());
        AtlasIngestor restarted = new AtlasIngestor(store, reports, models, new SimpleMeterRegistry(), 2);
        assertEquals("b", restarted.ingest(List.of(TestData.report("d", IMG_B, "d"))).duplicates().get(0).getDuplicateOf());
        // the same record again is unchanged, not its own duplicate
        AtlasIngestor.Result same = restarted.ingest(List.of(TestData.report("b", IMG_B, "Report b.")));
        assertEquals(1, same.unchanged());
        assertEquals(List.of(), same.duplicates());
        // other modalities have their own repository
        assertEquals(1, ingestor.ingest(List.of(TestData.report("o", IMG_A, "o").toBuilder().setReport(TestData.report("o", IMG_A, "o")
                .getReport().toBuilder().setModality(Modality.OPHTHALMOLOGY)).build())).stored());
    }

    @Test
    void hashesOfEntriesStoredWithoutOneAreComputedFromTheirImageAndMinusOneKeepsAll() {
        byte[] image = TestData.image(IMG_B);
        reports.write(Modality.PATHOLOGY, l -> {
            float[] v = new float[l.encoder().dimension()];
            v[0] = 1;
            l.collection().upsert(List.of(new VectorCollection.Entry("old", "old", "h", "", "stored before hashing", v, image, Map.of())));
            return null;
        });
        AtlasIngestor.Result r = ingestor.ingest(List.of(TestData.report("new", IMG_B, "new").toBuilder().setReport(
                TestData.report("new", IMG_B, "new").getReport().toBuilder().setModality(Modality.PATHOLOGY)).build()));
        assertEquals("old", r.duplicates().get(0).getDuplicateOf());

        AtlasIngestor keepAll = new AtlasIngestor(store, reports, models, new SimpleMeterRegistry(), -1);
        AtlasIngestor.Result all = keepAll.ingest(List.of(TestData.report("x1", IMG_A, "x"), TestData.report("x2", IMG_A, "x")));
        assertEquals(2, all.stored());
        assertEquals(List.of(), all.duplicates());
    }

    @Test
    void aDistanceOfZeroStillDropsIdenticalImages() {
        AtlasIngestor exact = new AtlasIngestor(store, reports, models, new SimpleMeterRegistry(), 0);
        AtlasIngestor.Result r = exact.ingest(List.of(TestData.report("z1", IMG_A, "z"), TestData.report("z2", IMG_A, "z")));
        assertEquals(1, r.stored());
        assertEquals(List.of(DuplicateRecord.newBuilder().setId("z2").setDuplicateOf("z1").setDistance(0).build()), r.duplicates());
    }
}

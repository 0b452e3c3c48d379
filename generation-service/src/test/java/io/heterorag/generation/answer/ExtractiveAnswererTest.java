package io.heterorag.generation.answer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.KnowledgeHit;
import io.heterorag.proto.v1.RankedAnswer;
import io.heterorag.proto.v1.ReportHit;
import io.heterorag.proto.v1.Task;
import org.junit.jupiter.api.Test;

class ExtractiveAnswererTest {

    private final ExtractiveAnswerer answerer = new ExtractiveAnswerer();

    static KnowledgeHit k(String id, String title, String query) {
        return KnowledgeHit.newBuilder().setCorpus(Corpus.BOOK).setId(id).setTitle(title).setQuery(query).build();
    }

    static ReportHit r(String id, float score, String diagnosis) {
        return ReportHit.newBuilder().setId(id).setScore(score).setText("report " + id).putMetadata("diagnosis", diagnosis).build();
    }

    @Test
    void ranksCandidatesBySupportAndCitesTheEvidence() {
        List<KnowledgeHit> knowledge = List.of(k("t1#0", "Pulmonary Hamartoma", "q1"), k("t2#0", "Carcinoid", "q1"),
                k("t3#0", "Carcinoid", "q2"), k("t4#0", "Tuberculoma", "q2"));
        List<ReportHit> reports = List.of(r("r1", 0.9f, "pulmonary hamartoma"), r("r2", 0.8f, "Lymphoma"));
        Answerer.Answer a = answerer.answer(Task.OPEN_VQA, reports, knowledge);
        List<RankedAnswer> c = a.candidates();
        // Carcinoid: 1/2 + 1/1 = 1.5; Hamartoma: 1 + 0.5*0.9/2 = 1.225; Tuberculoma 0.5; Lymphoma 0.2
        assertEquals(List.of("Carcinoid", "Pulmonary Hamartoma", "Tuberculoma", "Lymphoma"),
                c.stream().map(RankedAnswer::getText).toList());
        assertEquals(1.5f, c.get(0).getScore(), 1e-6);
        assertEquals(List.of("t1#0", "r1"), c.get(1).getEvidenceIdsList(), "case-insensitive merge keeps all evidence");
        assertTrue(a.text().startsWith("Most likely: Carcinoid."), a.text());
        assertEquals(List.of("t2#0", "t3#0"), a.segments().get(0).citations());
    }

    @Test
    void graphEntriesAreEvidenceButNotCandidates() {
        KnowledgeHit term = KnowledgeHit.newBuilder().setCorpus(Corpus.GRAPH).setId("term:c1").setTitle("Neoplasm, benign")
                .setQuery("nodule,related_to").build();
        Answerer.Answer a = answerer.answer(Task.OPEN_VQA, List.of(), List.of(term, k("t1#0", "Pulmonary Hamartoma", "q1")));
        assertEquals(List.of("Pulmonary Hamartoma"), a.candidates().stream().map(RankedAnswer::getText).toList());
    }

    @Test
    void reportGenerationReturnsTheClosestReportAndNoEvidenceMeansNoCandidate() {
        Answerer.Answer a = answerer.answer(Task.REPORT_GENERATION, List.of(r("r1", 0.9f, "x")), List.of());
        assertEquals("report r1", a.text());
        assertEquals(List.of("r1"), a.segments().get(0).citations());
        assertTrue(answerer.answer(Task.OPEN_VQA, List.of(), List.of()).candidates().isEmpty());
    }
}

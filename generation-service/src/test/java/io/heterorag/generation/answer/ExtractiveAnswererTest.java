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

    @Test
    void theAnswerNamesTheBestAndUpToFourOthersCitingTheirEvidence() {
        // six candidates from one query: 1, 1/2, 1/3, 1/4, 1/5, 1/6
        List<KnowledgeHit> knowledge = List.of(k("a#0", "Alpha", "q"), k("b#0", "Beta", "q"), k("c#0", "Gamma", "q"), k("d#0", "Delta", "q"),
                k("e#0", "Epsilon", "q"), k("f#0", "Zeta", "q"));
        List<Answerer.Segment> streamed = new java.util.ArrayList<>();
        Answerer.Answer a = answerer.answer(new Answerer.Question(Task.OPEN_VQA, "What?", io.heterorag.proto.v1.AnswerOptions.getDefaultInstance(),
                io.heterorag.proto.v1.Image.getDefaultInstance(), List.of(), knowledge), null, streamed::add);
        assertEquals("Most likely: Alpha. Also consider: Beta; Gamma; Delta; Epsilon.", a.text());
        assertEquals(List.of(new Answerer.Segment("Most likely: Alpha.", List.of("a#0")),
                new Answerer.Segment(" Also consider: Beta; Gamma; Delta; Epsilon.", List.of("b#0", "c#0", "d#0", "e#0"))), a.segments());
        assertEquals(a.segments(), streamed, "every segment is handed on");
        assertEquals(6, a.candidates().size());
        assertEquals(1f / 6, a.candidates().get(5).getScore(), 1e-6);
        assertEquals(ExtractiveAnswerer.ID, answerer.id());

        Answerer.Answer one = answerer.answer(Task.CLOSED_VQA, List.of(), List.of(k("a#0", "Alpha", "q")));
        assertEquals("Most likely: Alpha.", one.text());
        assertEquals(1, one.segments().size());
        Answerer.Answer two = answerer.answer(Task.OPEN_VQA, List.of(), List.of(k("a#0", "Alpha", "q"), k("b#0", "Beta", "q")));
        assertEquals("Most likely: Alpha. Also consider: Beta.", two.text());
    }

    @Test
    void reportSupportIsHalfTheSimilarityOverTheReportsAndNeverNegative() {
        // 0.5 * 0.8 / 2 = 0.2 and 0.5 * max(0, -0.4) / 2 = 0; a blank diagnosis is no candidate
        List<RankedAnswer> c = ExtractiveAnswerer.rank(List.of(r("r1", 0.8f, "Lymphoma"), r("r2", -0.4f, "Abscess"), r("r3", 0.9f, "  ")),
                List.of());
        assertEquals(List.of("Lymphoma", "Abscess"), c.stream().map(RankedAnswer::getText).toList());
        assertEquals(0.8f * 0.5f / 3, c.get(0).getScore(), 1e-6, "divided by all three reports");
        assertEquals(0f, c.get(1).getScore());
        // equal support: alphabetical by the lower-cased name
        List<RankedAnswer> tie = ExtractiveAnswerer.rank(List.of(), List.of(k("z#0", "zeta", "q1"), k("b#0", "Beta", "q2")));
        assertEquals(List.of("Beta", "zeta"), tie.stream().map(RankedAnswer::getText).toList());
        // each query ranks its own hits; per corpus too
        KnowledgeHit wiki = KnowledgeHit.newBuilder().setCorpus(io.heterorag.proto.v1.Corpus.WIKI).setId("w#0").setTitle("Beta").setQuery("q1")
                .build();
        List<RankedAnswer> perCorpus = ExtractiveAnswerer.rank(List.of(), List.of(k("a#0", "Alpha", "q1"), wiki));
        assertEquals(List.of(1f, 1f), perCorpus.stream().map(RankedAnswer::getScore).toList());
    }

    @Test
    void withoutEvidenceTheAnswerSaysSo() {
        Answerer.Answer none = answerer.answer(Task.OPEN_VQA, List.of(), List.of());
        assertEquals("The retrieved evidence names no candidate answer.", none.text());
        assertEquals(List.of(new Answerer.Segment(none.text(), List.of())), none.segments());
        Answerer.Answer noReport = answerer.answer(Task.REPORT_GENERATION, List.of(), List.of(k("a#0", "Alpha", "q")));
        assertEquals("No similar report was found.", noReport.text());
        assertEquals(List.of(new Answerer.Segment(noReport.text(), List.of())), noReport.segments());
        assertEquals(1, noReport.candidates().size(), "the candidates are still ranked");
    }
}

package io.heterorag.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.heterorag.model.evaluation.VqaSplits;
import io.heterorag.proto.v1.AnswerResponse;
import io.heterorag.proto.v1.KnowledgeHit;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.ReportHit;
import io.heterorag.proto.v1.Task;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class GeneratorExamplesTest {

    static final Path DATA = Path.of("../../shared/data");

    @Test
    void splitsTheRealSetsIntoTrainingAndHeldOutPartsByImage() {
        Assumptions.assumeTrue(Files.isDirectory(DATA.resolve("vqa/pathvqa")), "shared data not found");
        List<Map<String, List<GeneratorExamples.Example>>> parts = GeneratorExamples.collect(DATA.resolve("vqa"),
                DATA.resolve("medpix-2.0"));
        Map<String, List<GeneratorExamples.Example>> train = parts.get(0);
        Map<String, List<GeneratorExamples.Example>> eval = parts.get(1);
        // VQA-RAD: 3,064 train questions, 411 of them on the 43 held-out images; SLAKE: its own validate split
        // (train less slake-1622, whose answer is empty)
        assertEquals(3064 - 411, train.get("vqa-rad").size());
        assertEquals(411, eval.get("vqa-rad").size());
        assertEquals(4918, train.get("slake").size());
        assertEquals(1053, eval.get("slake").size());
        assertEquals(19654, train.get("pathvqa").size() + eval.get("pathvqa").size());
        for (String set : List.of("vqa-rad", "pathvqa")) {
            Set<Path> trainImages = train.get(set).stream().map(GeneratorExamples.Example::image).collect(Collectors.toSet());
            eval.get(set).forEach(e -> assertFalse(trainImages.contains(e.image()), e.id()));
            eval.get(set).forEach(e -> assertTrue(VqaSplits.heldOut(set, e.image().getFileName().toString())));
        }
        GeneratorExamples.Example report = train.get("medpix").get(0);
        assertEquals(Task.REPORT_GENERATION, report.task());
        assertEquals("", report.question());
        assertFalse(report.answer().isBlank());

        // the demo subset mixes the sets: round-robin over the four sources, 500 each
        List<GeneratorExamples.Example> demo = GeneratorExamples.choose(train, GeneratorExamples.DEMO_TRAIN, false);
        assertEquals(2000, demo.size());
        Map<String, Long> perSet = demo.stream().collect(Collectors.groupingBy(GeneratorExamples.Example::set, Collectors.counting()));
        assertEquals(Map.of("vqa-rad", 500L, "slake", 500L, "pathvqa", 500L, "medpix", 500L), perSet);
        assertEquals(demo.stream().map(GeneratorExamples.Example::id).toList(),
                GeneratorExamples.choose(train, GeneratorExamples.DEMO_TRAIN, false).stream().map(GeneratorExamples.Example::id).toList());
        assertEquals(new HashSet<>(demo).size(), demo.size());
    }

    @Test
    void aSmallSourceIsUsedUpAndTheOthersFillTheRest() {
        Map<String, List<GeneratorExamples.Example>> sources = new LinkedHashMap<>();
        sources.put("a", List.of(example("a1", "a"), example("a2", "a")));
        sources.put("b", List.of(example("b1", "b"), example("b2", "b"), example("b3", "b"), example("b4", "b")));
        List<GeneratorExamples.Example> five = GeneratorExamples.choose(sources, 5, false);
        assertEquals(5, five.size());
        assertEquals(2, five.stream().filter(e -> e.set().equals("a")).count());
        assertEquals(6, GeneratorExamples.choose(sources, 100, false).size());
        assertEquals(6, GeneratorExamples.choose(sources, 1, true).size());
    }

    @Test
    void aLineCarriesTheEvidenceButNotTheExamplesOwnReport() throws Exception {
        GeneratorExamples.Example vqa = new GeneratorExamples.Example("vqa-rad:1", "vqa-rad", Path.of("/d/synpic42.jpg"),
                Task.CLOSED_VQA, "Is there a mass?", "Yes", "closed", "PRES", List.of("yes", "no"), Modality.RADIOLOGY, "", "synpic42");
        AnswerResponse evidence = AnswerResponse.newBuilder()
                .addReports(ReportHit.newBuilder().setText("own image").putMetadata("image", "MPX9_synpic42").putMetadata("case_id", "MPX9"))
                .addReports(ReportHit.newBuilder().setText("another image").putMetadata("image", "MPX9_synpic420").putMetadata("case_id", "MPX9"))
                .addKnowledge(KnowledgeHit.newBuilder().setTitle("Hamartoma").setText("A benign lesion."))
                .build();
        JsonNode line = new ObjectMapper().readTree(GeneratorExamples.line(vqa, evidence));
        assertEquals("closed_vqa", line.get("task").asText());
        assertEquals("/d/synpic42.jpg", line.get("image_path").asText());
        assertEquals("[\"yes\",\"no\"]", line.get("choices").toString());
        assertEquals("[\"Hamartoma: A benign lesion.\"]", line.get("documents").toString());
        // the same image's report is left out; another image of the same case stays for a VQA example
        assertEquals("[\"another image\"]", line.get("reports").toString());

        GeneratorExamples.Example report = new GeneratorExamples.Example("medpix:MPX9_synpic7", "medpix", Path.of("/m/x.jpg"),
                Task.REPORT_GENERATION, "", "Findings.", "report", "", List.of(), Modality.RADIOLOGY, "MPX9", "MPX9_synpic7");
        // for a MedPix example every report of its own case is left out
        assertEquals("[]", new ObjectMapper().readTree(GeneratorExamples.line(report, evidence)).get("reports").toString());
    }

    static GeneratorExamples.Example example(String id, String set) {
        return new GeneratorExamples.Example(id, set, Path.of(id + ".jpg"), Task.OPEN_VQA, "q", "a", "open", "", List.of(),
                Modality.RADIOLOGY, "", id);
    }
}

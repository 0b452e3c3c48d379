package io.heterorag.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import javax.imageio.ImageIO;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.stub.StreamObserver;
import io.heterorag.model.image.ImageDecoder;
import io.heterorag.proto.v1.AnswerRequest;
import io.heterorag.proto.v1.AnswerResponse;
import io.heterorag.proto.v1.ClinicalRagGrpc;
import io.heterorag.proto.v1.ModelVersions;
import io.heterorag.proto.v1.ReportHit;
import io.heterorag.proto.v1.Task;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** eval vqa and eval report-generation against an in-process fake of generation-service (this class's unit test). */
class GenerationEvalTest {

    static final Path ROOT = Path.of("target", "generation-eval-test").toAbsolutePath();
    static final Path SET = ROOT.resolve("vqa-rad");
    static final List<AnswerRequest> REQUESTS = new CopyOnWriteArrayList<>();
    static Server server;
    static ManagedChannel channel;

    /** Answers "yes" to closed questions and "the left lung" otherwise; two reports, the first of case MPX1. */
    static final class FakeRag extends ClinicalRagGrpc.ClinicalRagImplBase {
        @Override
        public void answer(AnswerRequest req, StreamObserver<AnswerResponse> out) {
            REQUESTS.add(req);
            String answer = req.getTask() == Task.CLOSED_VQA ? "Yes" : req.getTask() == Task.REPORT_GENERATION
                    ? "The liver is normal." : "the left lung";
            out.onNext(AnswerResponse.newBuilder().setAnswer(answer)
                    .setModels(ModelVersions.newBuilder().setAnswerer("fake-vlm@1"))
                    .addReports(ReportHit.newBuilder().setText("own case report").putMetadata("case_id", "MPX1"))
                    .addReports(ReportHit.newBuilder().setText("The liver is enlarged.").putMetadata("case_id", "MPX2"))
                    .build());
            out.onCompleted();
        }
    }

    @BeforeAll
    static void start() throws IOException {
        Files.createDirectories(SET.resolve("images"));
        ImageIO.write(new BufferedImage(10, 6, BufferedImage.TYPE_INT_RGB), "png", SET.resolve("images/a.png").toFile());
        ImageIO.write(new BufferedImage(7, 5, BufferedImage.TYPE_INT_RGB), "png", SET.resolve("images/b.png").toFile());
        Files.write(SET.resolve("qa_train.jsonl"), List.of(
                q("t1", "a.png", "Is there a fracture of the rib?", "yes", "closed", "PRES"),
                q("t2", "b.png", "Is there a fracture in the skull?", "Yes", "closed", "PRES"),
                q("t3", "a.png", "Is the heart normal?", "no", "closed", "ABN"),
                q("t4", "b.png", "Where is the mass?", "liver", "open", "POS")));
        Files.write(SET.resolve("qa_validate.jsonl"), List.of(
                q("v1", "a.png", "Is there a fracture?", "Yes", "closed", "PRES"),
                q("v2", "b.png", "Is the kidney normal?", "no", "closed", "ABN"),
                q("v3", "a.png", "Which side is the lesion on?", "left", "closed", "POS"),
                q("v4", "b.png", "Where is the lesion?", "Left lung", "open", "POS"),
                q("v5", "a.png", "Which organ is shown?", "liver", "open", "ORGAN")));
        server = ServerBuilder.forPort(0).addService(new FakeRag()).build().start();
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
        System.setProperty("heterorag.home", ROOT.resolve("home").toString());
    }

    @AfterAll
    static void stop() {
        channel.shutdownNow();
        server.shutdownNow();
        System.clearProperty("heterorag.home");
    }

    static String q(String id, String image, String question, String answer, String type, String qtype) {
        return "{\"id\":\"" + id + "\",\"image\":\"" + image + "\",\"question\":\"" + question + "\",\"answer\":\"" + answer
                + "\",\"answer_type\":\"" + type + "\",\"question_type\":\"" + qtype + "\",\"modality\":\"radiology\"}";
    }

    static Args args(String... a) {
        return new Args(List.of(a), Set.of("json", "no-retrieval", "blank-image"));
    }

    @Test
    void scoresClosedAndOpenQuestionsBesideTheBaselinesAndWritesTheFile() throws IOException {
        REQUESTS.clear();
        assertEquals(0, GenerationEval.vqa(channel, args("vqa", "--data", SET.toString(), "--split", "validate", "--json")));
        JsonNode out = new ObjectMapper().readTree(ROOT.resolve("home/eval/vqa-vqa-rad-validate.json").toFile());
        // closed: v1 yes = "Yes" right, v2 "no" answered yes wrong, v3 "left" asked open, "the left lung" wrong: 1/3
        assertEquals(3, out.get("n_closed").asInt());
        assertEquals(1.0 / 3, out.get("closed_accuracy").asDouble(), 1e-9);
        // open: neither exact; recall v4 [left, lung] both present = 1, v5 [liver] absent = 0: mean 0.5
        assertEquals(2, out.get("n_open").asInt());
        assertEquals(0.0, out.get("open_exact").asDouble());
        assertEquals(0.5, out.get("open_recall").asDouble(), 1e-9);
        assertEquals("fake-vlm@1", out.get("generator").asText());
        // baselines trained on qa_train's closed questions (validate is a split of its own): majority "yes" (2 of 3)
        // is right on v1 only; the question-only model learns "fracture" → yes, "normal" → no: v1 and v2 right
        assertEquals(3, out.get("baseline_train_closed").asInt());
        assertEquals("yes", out.get("majority_answer").asText());
        assertEquals(1.0 / 3, out.get("majority_closed_accuracy").asDouble(), 1e-9);
        assertEquals(2.0 / 3, out.get("question_only_closed_accuracy").asDouble(), 1e-9);
        assertEquals(1.0, out.get("by_question_type").get("POS").get("open_recall").asDouble(), 1e-9);
        assertEquals(1, out.get("by_question_type").get("POS").get("n_closed").asInt());
        assertTrue(out.get("p50_ms").asDouble() >= 0);

        // yes/no questions are constrained to yes/no; other closed questions are asked open (no constraint)
        assertEquals(5, REQUESTS.size());
        assertEquals(Task.CLOSED_VQA, REQUESTS.get(0).getTask());
        assertEquals(List.of("yes", "no"), REQUESTS.get(0).getOptions().getClosedAnswersList());
        assertEquals(Task.OPEN_VQA, REQUESTS.get(2).getTask());
        assertEquals(0, REQUESTS.get(2).getOptions().getClosedAnswersCount());
        assertEquals(false, REQUESTS.get(0).getOptions().getSkipReports());
        assertEquals(false, REQUESTS.get(0).getOptions().getSkipKnowledge());
    }

    @Test
    void ablationsSkipReportsAndSendAGreyImageOfTheSameSize() throws IOException {
        REQUESTS.clear();
        GenerationEval.vqa(channel, args("vqa", "--data", SET.toString(), "--split", "validate", "--no-retrieval", "--blank-image",
                "--limit", "2"));
        assertTrue(Files.exists(ROOT.resolve("home/eval/vqa-vqa-rad-validate-no-retrieval-blank-image.json")));
        assertEquals(2, REQUESTS.size());
        for (AnswerRequest r : REQUESTS) {
            assertTrue(r.getOptions().getSkipReports());
            assertTrue(r.getOptions().getSkipKnowledge());
            assertEquals("image/png", r.getImage().getMediaType());
            BufferedImage img = ImageDecoder.decode(r.getImage().getData().toByteArray(), "");
            int first = img.getRGB(0, 0);
            assertEquals(0x808080, first & 0xffffff);
            assertEquals(first, img.getRGB(img.getWidth() - 1, img.getHeight() - 1));
        }
        Set<String> sizes = Set.of("10x6", "7x5");
        REQUESTS.forEach(r -> {
            BufferedImage img = ImageDecoder.decode(r.getImage().getData().toByteArray(), "");
            assertTrue(sizes.contains(img.getWidth() + "x" + img.getHeight()));
        });
    }

    @Test
    void heldOutIsTheTrainQuestionsOfHeldOutImagesAndBadInputIsRefused() {
        VqaSet set = new VqaSet(SET);
        List<VqaSet.Question> held = set.questions(VqaSet.HELD_OUT);
        List<VqaSet.Question> kept = set.questions(VqaSet.TRAIN_KEPT);
        assertEquals(4, held.size() + kept.size());
        held.forEach(h -> assertTrue(kept.stream().noneMatch(k -> k.image().equals(h.image()))));
        assertEquals("vqa-rad", set.name);
        assertThrows(IllegalArgumentException.class, () -> set.questions("test"));
        assertThrows(Args.UsageException.class, () -> GenerationEval.sample(List.of(1, 2), 0));
        // a seeded sample keeps file order and is the same every time
        List<Integer> items = java.util.stream.IntStream.range(0, 100).boxed().toList();
        assertEquals(GenerationEval.sample(items, 10), GenerationEval.sample(items, 10));
        List<Integer> s = GenerationEval.sample(items, 10);
        assertEquals(s.stream().sorted().toList(), s);
    }

    @Test
    void reportGenerationScoresFindingsAndTheTopReportOfAnotherCase() throws IOException {
        assertEquals("The liver is enlarged.", GenerationEval.topOtherCase(List.of(
                ReportHit.newBuilder().setText("own").putMetadata("case_id", "MPX1").build(),
                ReportHit.newBuilder().setText("The liver is enlarged.").putMetadata("case_id", "MPX2").build()), "MPX1"));
        assertEquals("", GenerationEval.topOtherCase(List.of(), "MPX1"));

        Path medpix = ROOT.resolve("medpix");
        Files.createDirectories(medpix.resolve("images"));
        ImageIO.write(new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB), "jpg", medpix.resolve("images/MPX1_synpic1.jpg").toFile());
        Files.writeString(medpix.resolve("data_dev.jsonl"), "{\"U_id\":\"MPX1\",\"TAC\":[\"MPX1_synpic1\"],\"MRI\":[],"
                + "\"Case\":{\"Findings\":\"The liver is enlarged and normal.\"},\"Topic\":{\"Title\":\"Hepatomegaly\"}}\n");
        Files.writeString(medpix.resolve("descriptions_dev.jsonl"), "{\"Type\":\"CT\",\"U_id\":\"MPX1\",\"image\":\"MPX1_synpic1\","
                + "\"Description\":{\"Caption\":\"c\"},\"Location\":\"Abdomen\"}\n");
        GenerationEval.reportGeneration(channel, args("report-generation", "--data", medpix.toString(), "--split", "dev"));
        JsonNode out = new ObjectMapper().readTree(ROOT.resolve("home/eval/report-generation-dev.json").toFile());
        // gold [the liver is enlarged and normal] (6); generated [the liver is normal] (4): p1 = 4/4,
        // c = 4 < r = 6: BP = exp(1 - 6/4) = exp(-0.5); LCS = "the liver is normal" = 4: P = 1, R = 4/6, F = 0.8
        assertEquals(1, out.get("n").asInt());
        assertEquals(Math.exp(-0.5), out.get("bleu_1").asDouble(), 1e-9);
        assertEquals(0.8, out.get("rouge_l").asDouble(), 1e-9);
        // baseline: "the liver is enlarged" (the own-case report is skipped): p1 = 1, BP = exp(1 - 6/4); LCS 4: F = 0.8
        assertEquals(Math.exp(-0.5), out.get("baseline_bleu_1").asDouble(), 1e-9);
        assertEquals(0.8, out.get("baseline_rouge_l").asDouble(), 1e-9);
        assertEquals(Task.REPORT_GENERATION, REQUESTS.get(REQUESTS.size() - 1).getTask());
    }
}

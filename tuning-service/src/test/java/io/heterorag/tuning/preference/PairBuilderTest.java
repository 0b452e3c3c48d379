package io.heterorag.tuning.preference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import javax.imageio.ImageIO;

import io.heterorag.model.generation.DecodingOptions;
import io.heterorag.model.generation.Generation;
import io.heterorag.model.generation.GenerationInput;
import io.heterorag.model.generation.Generator;
import io.heterorag.proto.v1.PreferencePair;
import io.heterorag.tuning.preference.LabelledExamples.Labelled;
import io.heterorag.tuning.training.GeneratorExamples.Example;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pair builder's rules on a fake generator whose answers follow from its inputs: a report with
 * KEY makes it right, a document with TRAP makes it wrong, an IMAGE question is right only on a red
 * image. The examples are built so that each kind must occur, and where.
 */
class PairBuilderTest {

    @TempDir
    Path dir;

    /** Answers from the prompt and the image; what it was asked is not logged anywhere. */
    static final class RuleGenerator implements Generator {
        @Override
        public String id() {
            return "rules@1";
        }

        @Override
        public String family() {
            return "llava";
        }

        @Override
        public int contextLength() {
            return 10_000;
        }

        @Override
        public int countTokens(String text) {
            return text.split("\\s+").length;
        }

        @Override
        public int overheadTokens(GenerationInput input) {
            return 4;
        }

        @Override
        public Generation generate(GenerationInput input, DecodingOptions options, Consumer<String> onText) {
            String p = input.prompt();
            String answer;
            if (p.contains("IMAGE")) {
                answer = new Color(input.image().getRGB(0, 0)).getRed() > 128 ? "yes" : "no";
            } else if (p.contains("TRAP")) {
                answer = "maybe";
            } else {
                answer = p.contains("KEY") ? "yes" : "no";
            }
            return new Generation(answer, new int[0], 0, "eos", 0, 0);
        }

        @Override
        public double logProb(GenerationInput input, String response) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {
        }
    }

    Path image(String name, Color c) throws Exception {
        BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(c);
        g.fillRect(0, 0, 8, 8);
        g.dispose();
        Path f = dir.resolve(name + ".png");
        ImageIO.write(img, "png", f.toFile());
        return f;
    }

    static Labelled example(String id, Path image, String question, String gold, List<String> docs, List<String> reports) {
        Example e = new Example(id, "set", image, "closed_vqa", question, gold, "closed", List.of("yes", "no", "maybe"), docs, reports);
        return new Labelled(e, docs.stream().map(d -> id + "/" + d.split(" ")[0]).toList(),
                reports.stream().map(r -> id + "/" + r.split(" ")[0]).toList());
    }

    @Test
    void eachKindOccursWhereItsRuleHoldsAndEachSideKeepsItsOwnInputs() throws Exception {
        Path red = image("red", new Color(255, 0, 0));
        Path blue = image("blue", new Color(0, 0, 255));
        Path orange = image("orange", new Color(250, 40, 0));
        List<Labelled> examples = List.of(
                // right only with its KEY report: knowledge_use for reports and both; image-independent: cross_modality
                example("use", red, "is it there?", "yes", List.of("d1 plain"), List.of("r1 KEY finding")),
                // wrong with its TRAP document, right without it: knowledge_robustness for documents and both
                example("robust", orange, "is it there?", "no", List.of("d2 TRAP text"), List.of("r2 plain")),
                // right with the red image, wrong with the least similar (blue) one: no cross_modality pair
                example("image", red, "IMAGE is it red?", "yes", List.of(), List.of()),
                // a blue image answered no, rightly, with any image? no: red is least like blue, and red says yes
                example("blue", blue, "IMAGE is it red?", "no", List.of(), List.of()));
        // features: the colour itself, so red and orange are alike and blue is least like both
        PairBuilder.ImageFeatures colour = img -> {
            Color c = new Color(img.getRGB(0, 0));
            return new float[] {c.getRed(), c.getGreen(), c.getBlue()};
        };
        PairBuilder.Built built = new PairBuilder(new RuleGenerator(), colour, 8).build(examples, 2, p -> { });

        assertEquals(Map.of(PairKinds.CROSS_MODALITY, 1, PairKinds.KNOWLEDGE_USE, 2, PairKinds.KNOWLEDGE_ROBUSTNESS, 2), built.counts());
        assertEquals(4, built.examined());

        PreferencePair useReports = find(built, PairKinds.KNOWLEDGE_USE, "reports");
        assertEquals("use", useReports.getExampleId());
        assertEquals("yes", useReports.getChosenSide().getAnswer());
        assertEquals("no", useReports.getRejectedSide().getAnswer(), "the wrong answer without the reports");
        assertEquals(List.of("use/r1"), useReports.getChosenSide().getReportIdsList());
        assertEquals(List.of(), useReports.getRejectedSide().getReportIdsList(), "the rejected side had no reports");
        assertEquals(List.of("use/d1"), useReports.getRejectedSide().getDocumentIdsList(), "but kept its documents");
        assertTrue(useReports.getChosenSide().getPrompt().contains("KEY") && !useReports.getRejectedSide().getPrompt().contains("KEY"));
        assertEquals(useReports.getChosenSide().getAnswer(), useReports.getChosen());
        assertEquals(useReports.getChosenSide().getPrompt(), useReports.getPrompt());

        PreferencePair useBoth = find(built, PairKinds.KNOWLEDGE_USE, "both");
        assertEquals(0, useBoth.getRejectedSide().getDocumentIdsCount() + useBoth.getRejectedSide().getReportIdsCount());

        PreferencePair robust = find(built, PairKinds.KNOWLEDGE_ROBUSTNESS, "documents");
        assertEquals("robust", robust.getExampleId());
        assertEquals("no", robust.getChosenSide().getAnswer(), "right without the TRAP document");
        assertEquals(List.of(), robust.getChosenSide().getDocumentIdsList());
        assertEquals("maybe", robust.getRejectedSide().getAnswer(), "misled with it");
        assertEquals(List.of("robust/d2"), robust.getRejectedSide().getDocumentIdsList());
        find(built, PairKinds.KNOWLEDGE_ROBUSTNESS, "both");

        PreferencePair cross = find(built, PairKinds.CROSS_MODALITY, "image");
        assertEquals("use", cross.getExampleId(), "the image-independent answer; the IMAGE questions change with the image");
        assertEquals(red.toString(), cross.getChosenSide().getImagePath());
        assertEquals(blue.toString(), cross.getRejectedSide().getImagePath(), "the least similar image of the set");
        assertEquals(cross.getChosenSide().getAnswer(), cross.getRejectedSide().getAnswer(), "the same answer on both sides");
        assertTrue(!cross.getChosenSide().getImageSha256().equals(cross.getRejectedSide().getImageSha256()));
        assertEquals(cross.getChosenSide().getReportIdsList(), cross.getRejectedSide().getReportIdsList(), "the same evidence");
    }

    @Test
    void reportGenerationCannotBeJudgedAndIsSkipped() throws Exception {
        Path red = image("red", Color.RED);
        Example e = new Example("r", "medpix", red, "report_generation", "", "findings", "report", List.of(), List.of(), List.of());
        PairBuilder.Built built = new PairBuilder(new RuleGenerator(), img -> new float[] {1}, 8)
                .build(List.of(new Labelled(e, List.of(), List.of())), 1, p -> { });
        assertEquals(1, built.skippedReports());
        assertTrue(built.pairs().isEmpty());
    }

    static PreferencePair find(PairBuilder.Built built, String kind, String ablated) {
        return built.pairs().stream().filter(p -> p.getKind().equals(kind) && p.getAblated().equals(ablated)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + "/" + ablated + " pair in " + built.counts()));
    }
}

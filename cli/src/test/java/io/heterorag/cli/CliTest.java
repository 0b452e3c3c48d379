package io.heterorag.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;

import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.RankedAnswer;
import org.junit.jupiter.api.Test;

class CliTest {

    @Test
    void parsesOptionsFlagsAndWords() {
        Args a = new Args(List.of("medpix", "/d", "--split", "dev", "--json", "--limit", "3"), Set.of("json"));
        assertEquals(List.of("medpix", "/d"), a.positional);
        assertEquals("dev", a.get("split", "train"));
        assertTrue(a.flag("json"));
        assertEquals(3, a.integer("limit", 0));
        assertThrows(Args.UsageException.class, () -> new Args(List.of("--split"), Set.of()));
        assertThrows(Args.UsageException.class, () -> new Args(List.of("--limit", "x"), Set.of()).integer("limit", 0));
    }

    @Test
    void theGeneratorCommandsRefuseBadCommandLinesWithExitCode2() {
        // nothing is sent: each is refused before the first call (gRPC channels connect lazily)
        assertEquals(2, Main.run(List.of("eval", "vqa", "--split", "validate")));
        assertEquals(2, Main.run(List.of("eval", "vqa", "--data", "no-such-dir", "--split", "validate")));
        assertEquals(2, Main.run(List.of("eval", "report-generation", "--data", "no-such-dir", "--split", "dev")));
        assertEquals(2, Main.run(List.of("train", "generator", "--medpix", "x")));
        assertEquals(2, Main.run(List.of("train", "generator", "--vqa", "no-such-dir", "--medpix", "x")));
        assertEquals(2, Main.run(List.of("bench", "generate", "--bundle", "no-such-dir")));
        assertEquals(2, Main.run(List.of("bench", "generate", "--task", "poem", "--bundle", "x")));
    }

    @Test
    void modalityNamesAreCheckedLocally() {
        assertEquals(Modality.PATHOLOGY, Main.protoEnum(Modality.class, "pathology", ""));
        Args.UsageException e = assertThrows(Args.UsageException.class, () -> Main.protoEnum(Modality.class, "dental", "a, b"));
        assertEquals("unknown modality dental (a, b)", e.getMessage());
        assertThrows(Args.UsageException.class, () -> Main.protoEnum(Modality.class, "modality_unspecified", ""));
    }

    @Test
    void scoresTheGoldTitleCaseInsensitivelyAndTakesNearestRankPercentiles() {
        List<RankedAnswer> c = List.of(RankedAnswer.newBuilder().setText("Carcinoid").build(),
                RankedAnswer.newBuilder().setText("Pulmonary Hamartoma ").build());
        assertEquals(1, EvalCommand.rank(c, "pulmonary hamartoma"));
        assertEquals(-1, EvalCommand.rank(c, "Lymphoma"));
        List<Double> v = List.of(5.0, 1.0, 4.0, 2.0, 3.0);
        assertEquals(3.0, EvalCommand.percentile(v, 50));
        assertEquals(5.0, EvalCommand.percentile(v, 95));
        assertEquals(1.0, EvalCommand.percentile(v, 0));
    }
}

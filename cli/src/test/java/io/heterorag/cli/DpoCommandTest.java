package io.heterorag.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import io.heterorag.proto.v1.Job;
import org.junit.jupiter.api.Test;

/** What `train dpo` prints from a job record, and the command lines it refuses before any call. */
class DpoCommandTest {

    @Test
    void printsPairsPerKindBeforeAfterAndPromoted() {
        Job job = Job.newBuilder().setJobId("j").setKind("dpo").setState("succeeded").setPromoted(true).setModel("heterorag-vlm@2")
                .putParameters("bundle", "/served").putMetrics("pairs_cross_modality", 12).putMetrics("pairs_knowledge_use", 5)
                .putMetrics("before_closed_accuracy", 0.6).putMetrics("before_noisy_knowledge_accuracy", 0.5)
                .putMetrics("before_mismatched_image_drop", 0.05).putMetrics("after_closed_accuracy", 0.62)
                .putMetrics("after_noisy_knowledge_accuracy", 0.55).putMetrics("after_mismatched_image_drop", 0.08)
                .putMetrics("epoch1_loss", 0.69).putMetrics("epoch1_reward_margin", 0.01).putMetrics("epoch1_reward_accuracy", 0.5)
                .putMetrics("epoch2_loss", 0.6).putMetrics("epoch2_reward_margin", 0.2).putMetrics("epoch2_reward_accuracy", 0.7).build();
        JsonNode out = TrainCommand.dpoRecord(job);
        assertEquals(12, out.path("pairs").path("cross_modality").asInt());
        assertEquals(5, out.path("pairs").path("knowledge_use").asInt());
        assertEquals(0, out.path("pairs").path("knowledge_robustness").asInt(), "a kind without pairs says 0");
        assertEquals(0.6, out.path("before").path("closed_accuracy").asDouble());
        assertEquals(0.55, out.path("after").path("noisy_knowledge_accuracy").asDouble());
        assertEquals(0.08, out.path("after").path("mismatched_image_drop").asDouble());
        assertEquals(true, out.path("promoted").asBoolean());
        assertEquals(2, out.path("epochs").size());
        assertEquals(0.2, out.path("epochs").get(1).path("reward_margin").asDouble());
        assertEquals("/served", out.path("started_from").asText());
    }

    @Test
    void refusesBadCommandLinesWithExitCode2() {
        assertEquals(2, Main.run(List.of("train", "dpo", "--medpix", "x")));
        assertEquals(2, Main.run(List.of("train", "pairs")));
    }
}

package io.heterorag.tuning.preference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;

import io.heterorag.proto.v1.EvidenceRef;
import io.heterorag.proto.v1.Feedback;
import io.heterorag.proto.v1.ModelVersions;
import io.heterorag.proto.v1.PairSide;
import io.heterorag.proto.v1.PreferencePair;
import io.heterorag.proto.v1.Task;
import io.heterorag.proto.v1.Trace;
import org.junit.jupiter.api.Test;

/** A correction on a stored trace: every field of the pair, and when there is no pair. */
class FeedbackPairsTest {

    static final Trace TRACE = Trace.newBuilder().setTraceId("t-1").setTask(Task.CLOSED_VQA).setImageSha256("ab12")
            .addReports(EvidenceRef.newBuilder().setId("r1")).addReports(EvidenceRef.newBuilder().setId("r2"))
            .addKnowledge(EvidenceRef.newBuilder().setId("d1")).setAnswer("no")
            .setModels(ModelVersions.newBuilder().setAnswerer("vlm@3")).build();

    static Feedback feedback(String correction, long createdAtMs) {
        return Feedback.newBuilder().setFeedbackId("f-9").setTraceId("t-1").setCorrectAnswer(correction).setCreatedAtMs(createdAtMs).build();
    }

    @Test
    void aCorrectionIsChosenAndTheTracesAnswerRejectedOnTheTracesInputs() {
        PreferencePair p = FeedbackPairs.pair(TRACE, feedback("  yes ", 1234)).orElseThrow();
        // the name-based (MD5, version 3) UUID of the feedback id: a re-delivered feedback makes the same pair
        assertEquals("feedback:63bc59a2-2f6e-3838-9c2b-5ffd9b1b2e1a", p.getPairId());
        assertEquals("t-1", p.getTraceId());
        assertEquals(PairKinds.CORRECTION, p.getKind());
        assertEquals("answer", p.getAblated());
        assertEquals("closed_vqa", p.getTask());
        assertEquals("yes", p.getChosen(), "stripped");
        assertEquals("no", p.getRejected());
        assertEquals("yes", p.getGold());
        assertEquals("vlm@3", p.getGenerator());
        assertEquals(1234, p.getCreatedAtMs());
        PairSide inputs = PairSide.newBuilder().setImageSha256("ab12").addAllReportIds(List.of("r1", "r2")).addAllDocumentIds(List.of("d1"))
                .build();
        assertEquals(inputs.toBuilder().setAnswer("yes").build(), p.getChosenSide());
        assertEquals(inputs.toBuilder().setAnswer("no").build(), p.getRejectedSide());
    }

    @Test
    void withoutATimeTheFeedbackIsDatedNow() {
        long before = System.currentTimeMillis();
        long at = FeedbackPairs.pair(TRACE, feedback("yes", 0)).orElseThrow().getCreatedAtMs();
        assertTrue(at >= before && at <= System.currentTimeMillis(), "created " + at);
    }

    @Test
    void noPairWithoutACorrectionForTheSameAnswerOrForATraceWithoutAnswer() {
        assertEquals(Optional.empty(), FeedbackPairs.pair(TRACE, feedback("", 1)));
        assertEquals(Optional.empty(), FeedbackPairs.pair(TRACE, feedback("   ", 1)));
        assertEquals(Optional.empty(), FeedbackPairs.pair(TRACE, feedback("No.", 1)), "the trace's own answer, normalised");
        assertEquals(Optional.empty(), FeedbackPairs.pair(TRACE.toBuilder().setAnswer(" ").build(), feedback("yes", 1)));
    }
}

package io.heterorag.tuning.preference;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.UUID;

import io.heterorag.model.evaluation.VqaScoring;
import io.heterorag.proto.v1.EvidenceRef;
import io.heterorag.proto.v1.Feedback;
import io.heterorag.proto.v1.PairSide;
import io.heterorag.proto.v1.PreferencePair;
import io.heterorag.proto.v1.Trace;

/**
 * Feedback with a corrected answer on a stored trace is a preference pair: chosen the correction,
 * rejected the trace's answer, both on the trace's inputs (its image SHA-256 and evidence ids; a
 * trace keeps neither the image bytes nor the evidence texts, so the sides carry references only).
 */
public final class FeedbackPairs {

    private FeedbackPairs() {
    }

    /** The pair, or empty when the feedback has no correction or the correction is the trace's own answer. */
    public static Optional<PreferencePair> pair(Trace trace, Feedback feedback) {
        String correction = feedback.getCorrectAnswer().strip();
        if (correction.isEmpty() || VqaScoring.exact(correction, trace.getAnswer()) || trace.getAnswer().isBlank()) {
            return Optional.empty();
        }
        PairSide inputs = PairSide.newBuilder().setImageSha256(trace.getImageSha256())
                .addAllReportIds(trace.getReportsList().stream().map(EvidenceRef::getId).toList())
                .addAllDocumentIds(trace.getKnowledgeList().stream().map(EvidenceRef::getId).toList()).build();
        String id = "feedback:" + UUID.nameUUIDFromBytes(feedback.getFeedbackId().getBytes(StandardCharsets.UTF_8));
        return Optional.of(PreferencePair.newBuilder().setPairId(id).setTraceId(trace.getTraceId()).setKind(PairKinds.CORRECTION)
                .setAblated("answer").setTask(trace.getTask().name().toLowerCase(java.util.Locale.ROOT))
                .setChosen(correction).setRejected(trace.getAnswer()).setGold(correction)
                .setChosenSide(inputs.toBuilder().setAnswer(correction)).setRejectedSide(inputs.toBuilder().setAnswer(trace.getAnswer()))
                .setGenerator(trace.getModels().getAnswerer())
                .setCreatedAtMs(feedback.getCreatedAtMs() > 0 ? feedback.getCreatedAtMs() : System.currentTimeMillis()).build());
    }
}

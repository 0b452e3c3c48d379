package io.heterorag.generation.answer;

import java.util.List;
import java.util.function.Consumer;

import io.grpc.Deadline;
import io.heterorag.proto.v1.AnswerOptions;
import io.heterorag.proto.v1.Image;
import io.heterorag.proto.v1.KnowledgeHit;
import io.heterorag.proto.v1.RankedAnswer;
import io.heterorag.proto.v1.ReportHit;
import io.heterorag.proto.v1.Task;

/**
 * The answer stage of the pipeline: writes the answer from the question, the image and the evidence
 * gathered before it. {@link ExtractiveAnswerer} ranks candidates named by the evidence;
 * {@link GenerativeAnswerer} runs a Med-LVLM bundle. Implementations are thread-safe.
 */
public interface Answerer extends AutoCloseable {

    /** "name@version", reported as models.answerer. */
    String id();

    /**
     * Answers; {@code onSegment} receives the answer's segments, in order, as they are produced
     * (their texts concatenated are the answer). Throws StatusRuntimeException for bad input
     * (INVALID_ARGUMENT) and when {@code deadline} passes while answering (DEADLINE_EXCEEDED).
     */
    Answer answer(Question question, Deadline deadline, Consumer<Segment> onSegment);

    /** Releases the model; called once no request uses the answerer any more. */
    @Override
    default void close() {
    }

    /** What an answer is written from. {@code options} are already validated; {@code image} may be empty. */
    record Question(Task task, String question, AnswerOptions options, Image image, List<ReportHit> reports,
            List<KnowledgeHit> knowledge) {
    }

    /**
     * An answer. finishReason, promptTokens and generatedTokens describe a generation ("" and 0 for
     * an extractive answer); evidenceDropped counts the evidence items left out of the prompt.
     */
    record Answer(String text, List<Segment> segments, List<RankedAnswer> candidates, String finishReason, int promptTokens,
            int generatedTokens, int evidenceDropped) {
    }

    /** A piece of the answer and the ids of the evidence it cites. */
    record Segment(String text, List<String> citations) {
    }
}

package io.heterorag.generation.grpc;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.heterorag.generation.pipeline.RagPipeline;
import io.heterorag.proto.v1.AnswerEvent;
import io.heterorag.proto.v1.AnswerRequest;
import io.heterorag.proto.v1.AnswerResponse;
import io.heterorag.proto.v1.AnswerSegment;
import io.heterorag.proto.v1.ClinicalRagGrpc;
import io.quarkus.grpc.GrpcService;
import io.quarkus.logging.Log;
import io.smallrye.common.annotation.Blocking;

/** The public API: unary and streaming answers over the same pipeline. */
@GrpcService
@Blocking
public class ClinicalRagGrpcService extends ClinicalRagGrpc.ClinicalRagImplBase {

    private final RagPipeline pipeline;

    public ClinicalRagGrpcService(RagPipeline pipeline) {
        this.pipeline = pipeline;
    }

    @Override
    public void answer(AnswerRequest req, StreamObserver<AnswerResponse> out) {
        AnswerResponse res;
        try {
            res = pipeline.run(req, evidence -> {
            }, segment -> {
            });
        } catch (RuntimeException e) {
            out.onError(toStatus(req, e));
            return;
        }
        log(req, res);
        out.onNext(res);
        out.onCompleted();
    }

    @Override
    public void streamAnswer(AnswerRequest req, StreamObserver<AnswerEvent> out) {
        AnswerResponse res;
        try {
            // evidence, then each segment as the answerer produces it, then the response
            res = pipeline.run(req, evidence -> out.onNext(AnswerEvent.newBuilder().setEvidence(evidence).build()),
                    s -> out.onNext(AnswerEvent.newBuilder().setSegment(AnswerSegment.newBuilder().setText(s.text())
                            .addAllCitations(s.citations())).build()));
        } catch (RuntimeException e) {
            out.onError(toStatus(req, e));
            return;
        }
        out.onNext(AnswerEvent.newBuilder().setDone(res).build());
        out.onCompleted();
        log(req, res);
    }

    private static StatusRuntimeException toStatus(AnswerRequest req, RuntimeException e) {
        if (e instanceof StatusRuntimeException sre) {
            Log.infof("request %s refused: %s (image %d bytes)", req.getRequestId(), sre.getStatus().getCode(),
                    req.getImage().getData().size());
            return sre;
        }
        Log.errorf("request %s failed: %s", req.getRequestId(), e.getClass().getName());
        // the exception goes to the log under an error id (ErrorShield); the caller gets INTERNAL and the id
        return Status.INTERNAL.withCause(e).withDescription("answer failed").asRuntimeException();
    }

    // ids and sizes only: questions, images and answers are patient data
    private static void log(AnswerRequest req, AnswerResponse res) {
        Log.infof("answered request=%s trace=%s answerer=%s image_bytes=%d question_chars=%d reports=%d knowledge=%d "
                + "answer_chars=%d prompt_tokens=%d generated_tokens=%d evidence_dropped=%d finish=%s",
                req.getRequestId(), res.getTraceId(), res.getModels().getAnswerer(), req.getImage().getData().size(),
                req.getQuestion().length(), res.getReportsCount(), res.getKnowledgeCount(), res.getAnswer().length(),
                res.getPromptTokens(), res.getGeneratedTokens(), res.getEvidenceDropped(), res.getFinishReason());
    }
}

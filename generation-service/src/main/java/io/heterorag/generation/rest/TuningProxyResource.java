package io.heterorag.generation.rest;

import java.util.List;
import java.util.concurrent.TimeUnit;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.heterorag.proto.json.FeedbackApi;
import io.heterorag.proto.json.ProtoJson;
import io.heterorag.proto.v1.Feedback;
import io.heterorag.proto.v1.GetTraceRequest;
import io.heterorag.proto.v1.ListFeedbackRequest;
import io.heterorag.proto.v1.ListTracesRequest;
import io.heterorag.proto.v1.Trace;
import io.heterorag.proto.v1.TuningGrpc;
import io.quarkus.grpc.GrpcClient;

/** {@link FeedbackApi} forwarded to tuning-service over gRPC (Tuning), so the review page talks to one origin. */
public class TuningProxyResource implements FeedbackApi {

    static final long DEADLINE_MS = 10_000;

    private final TuningGrpc.TuningBlockingStub tuning;

    public TuningProxyResource(@GrpcClient("tuning") TuningGrpc.TuningBlockingStub tuning) {
        this.tuning = tuning;
    }

    @Override
    public String feedback(String body) {
        Feedback f = ProtoJson.feedback(body);
        return ProtoJson.submitted(f, call("feedback", () -> tuning().submitFeedback(f)));
    }

    @Override
    public String traces(int pageSize, long beforeMs) {
        return ProtoJson.tracesWithFeedback(call("traces", () -> tuning().listTraces(ListTracesRequest.newBuilder()
                .setPageSize(pageSize).setBeforeMs(beforeMs).build())), this::feedbackOn);
    }

    @Override
    public String trace(String id) {
        Trace t = call("traces", () -> tuning().getTrace(GetTraceRequest.newBuilder().setTraceId(id).build()));
        return ProtoJson.traceWithFeedback(t, feedbackOn(id));
    }

    private List<Feedback> feedbackOn(String traceId) {
        return call("feedback", () -> tuning().listFeedback(ListFeedbackRequest.newBuilder().setTraceId(traceId).build()))
                .getFeedbackList();
    }

    private TuningGrpc.TuningBlockingStub tuning() {
        return tuning.withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS);
    }

    // tuning's own refusals pass as they are; a down tuning-service is named, as the pipeline names its stages
    private static <T> T call(String what, java.util.function.Supplier<T> body) {
        try {
            return body.get();
        } catch (StatusRuntimeException e) {
            Status s = e.getStatus();
            if (s.getCode() == Status.Code.UNAVAILABLE || s.getCode() == Status.Code.DEADLINE_EXCEEDED) {
                throw s.withDescription("tuning-service (" + what + "): " + (s.getDescription() == null ? s.getCode() : s.getDescription()))
                        .asRuntimeException();
            }
            throw e;
        }
    }
}

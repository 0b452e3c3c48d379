package io.heterorag.tuning.rest;

import java.util.List;
import java.util.function.BiConsumer;

import jakarta.ws.rs.core.Response;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.heterorag.proto.json.FeedbackApi;
import io.heterorag.proto.json.ProtoJson;
import io.heterorag.proto.v1.Feedback;
import io.heterorag.proto.v1.GetTraceRequest;
import io.heterorag.proto.v1.ListFeedbackRequest;
import io.heterorag.proto.v1.ListFeedbackResponse;
import io.heterorag.proto.v1.ListTracesRequest;
import io.heterorag.proto.v1.Trace;
import io.heterorag.tuning.grpc.TuningGrpcService;
import io.heterorag.tuning.store.TuningStore;
import io.heterorag.tuning.training.JobRunner;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * {@link FeedbackApi}, served by tuning-service. Each call goes through the gRPC service's own method
 * (the same validation and store path as Tuning.SubmitFeedback, ListTraces, GetTrace, ListFeedback).
 * Blocking methods: Quarkus REST runs them on a worker.
 */
public class FeedbackResource implements FeedbackApi {

    private final TuningGrpcService tuning;

    public FeedbackResource(TuningStore store, JobRunner jobs) {
        this.tuning = new TuningGrpcService(store, jobs); // stateless over the store: the same code path as the gRPC bean
    }

    @Override
    public String feedback(String body) {
        Feedback f = ProtoJson.feedback(body);
        return ProtoJson.submitted(f, unary(tuning::submitFeedback, f));
    }

    @Override
    public String traces(int pageSize, long beforeMs) {
        return ProtoJson.tracesWithFeedback(unary(tuning::listTraces, ListTracesRequest.newBuilder().setPageSize(pageSize)
                .setBeforeMs(beforeMs).build()), this::feedbackOn);
    }

    @Override
    public String trace(String id) {
        Trace t = unary(tuning::getTrace, GetTraceRequest.newBuilder().setTraceId(id).build());
        return ProtoJson.traceWithFeedback(t, feedbackOn(id));
    }

    @ServerExceptionMapper
    public Response problem(StatusRuntimeException e) {
        return Response.status(ProtoJson.httpStatus(e.getStatus())).type(ProtoJson.PROBLEM_JSON).entity(ProtoJson.problem(e)).build();
    }

    private List<Feedback> feedbackOn(String traceId) {
        ListFeedbackResponse r = unary(tuning::listFeedback, ListFeedbackRequest.newBuilder().setTraceId(traceId).build());
        return r.getFeedbackList();
    }

    /** Calls a unary gRPC method in-process: its value, or its status as an exception. */
    static <Q, R> R unary(BiConsumer<Q, StreamObserver<R>> method, Q request) {
        Object[] result = new Object[1];
        Throwable[] error = new Throwable[1];
        method.accept(request, new StreamObserver<>() {
            @Override
            public void onNext(R value) {
                result[0] = value;
            }

            @Override
            public void onError(Throwable t) {
                error[0] = t;
            }

            @Override
            public void onCompleted() {
            }
        });
        if (error[0] != null) {
            throw error[0] instanceof StatusRuntimeException s ? s : Status.fromThrowable(error[0]).asRuntimeException();
        }
        @SuppressWarnings("unchecked")
        R r = (R) result[0];
        return r;
    }
}

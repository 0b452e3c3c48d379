package io.heterorag.tuning.rest;

import java.util.List;
import java.util.function.BiConsumer;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
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
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Feedback and traces over HTTP/JSON. Each call goes through the gRPC service's own method (the same
 * validation and store path as Tuning.SubmitFeedback, ListTraces, GetTrace, ListFeedback); the bodies
 * are protobuf JSON with the proto's field names. Blocking methods: Quarkus REST runs them on a worker.
 */
@Path("/v1")
@Tag(name = "feedback", description = "Clinicians' feedback on answers, and the traces it is about")
public class FeedbackResource {

    private final TuningGrpcService tuning;

    public FeedbackResource(TuningStore store, JobRunner jobs) {
        this.tuning = new TuningGrpcService(store, jobs); // stateless over the store: the same code path as the gRPC bean
    }

    @POST
    @Path("/feedback")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Give feedback on an answer", description = "A Feedback in protobuf JSON: trace_id, rating (1 correct, "
            + "-1 wrong, 0 unsure), correct_answer, comment. feedback_id and created_at_ms are filled in when empty. The response "
            + "is {\"feedback_id\": …, \"stored\": …}.")
    @RequestBody(content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(ref = "Feedback")))
    @APIResponse(responseCode = "200", description = "Stored (stored=false: this feedback_id was stored before)")
    @APIResponse(responseCode = "400", description = "No trace_id, rating not -1, 0 or 1, or not a Feedback",
            content = @Content(mediaType = ProtoJson.PROBLEM_JSON))
    public String feedback(String body) {
        Feedback f = ProtoJson.feedback(body);
        return ProtoJson.submitted(f, unary(tuning::submitFeedback, f));
    }

    @GET
    @Path("/traces")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Recent traces with their feedback, newest first",
            description = "{\"traces\": [{\"trace\": Trace, \"feedback\": [Feedback]}], \"total\": stored traces}")
    @APIResponse(responseCode = "400", description = "Negative page_size", content = @Content(mediaType = ProtoJson.PROBLEM_JSON))
    public String traces(@Parameter(description = "At most this many traces; 0: 50") @QueryParam("page_size") @DefaultValue("20") int pageSize,
            @Parameter(description = "Only traces created before this (epoch ms); 0: no bound") @QueryParam("before_ms") @DefaultValue("0") long beforeMs) {
        return ProtoJson.tracesWithFeedback(unary(tuning::listTraces, ListTracesRequest.newBuilder().setPageSize(pageSize)
                .setBeforeMs(beforeMs).build()), this::feedbackOn);
    }

    @GET
    @Path("/traces/{id}")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "One trace with its feedback", description = "{\"trace\": Trace, \"feedback\": [Feedback]}")
    @APIResponse(responseCode = "404", description = "No such trace", content = @Content(mediaType = ProtoJson.PROBLEM_JSON))
    public String trace(@Parameter(description = "The trace_id of an answer") @PathParam("id") String id) {
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

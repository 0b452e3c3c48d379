package io.heterorag.generation.rest;

import java.util.List;
import java.util.concurrent.TimeUnit;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.heterorag.proto.json.ProtoJson;
import io.heterorag.proto.v1.Feedback;
import io.heterorag.proto.v1.GetTraceRequest;
import io.heterorag.proto.v1.ListFeedbackRequest;
import io.heterorag.proto.v1.ListTracesRequest;
import io.heterorag.proto.v1.Trace;
import io.heterorag.proto.v1.TuningGrpc;
import io.quarkus.grpc.GrpcClient;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * Feedback and traces for the review page, forwarded to tuning-service over gRPC (Tuning), so the page
 * talks to one origin. The same endpoints, with the same bodies, are tuning-service's own REST API.
 */
@Path("/v1")
@Tag(name = "feedback", description = "Clinicians' feedback on answers, and the traces it is about (forwarded to tuning-service)")
public class TuningProxyResource {

    static final long DEADLINE_MS = 10_000;

    private final TuningGrpc.TuningBlockingStub tuning;

    public TuningProxyResource(@GrpcClient("tuning") TuningGrpc.TuningBlockingStub tuning) {
        this.tuning = tuning;
    }

    @POST
    @Path("/feedback")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Give feedback on an answer", description = "A Feedback in protobuf JSON: trace_id, rating (1 correct, "
            + "-1 wrong, 0 unsure), correct_answer, comment. feedback_id and created_at_ms are filled in when empty. The response "
            + "is {\"feedback_id\": …, \"stored\": …}.")
    @RequestBody(content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(ref = "Feedback")))
    @APIResponse(responseCode = "200", description = "Stored (stored=false: this feedback_id was stored before)",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(ref = "SubmitFeedbackResponse")))
    @APIResponse(responseCode = "400", description = "No trace_id, rating not -1, 0 or 1, or not a Feedback",
            content = @Content(mediaType = ProtoJson.PROBLEM_JSON, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "tuning-service is down",
            content = @Content(mediaType = ProtoJson.PROBLEM_JSON, schema = @Schema(implementation = Problem.class)))
    public String feedback(String body) {
        Feedback f = ProtoJson.feedback(body);
        return ProtoJson.submitted(f, call("feedback", () -> tuning().submitFeedback(f)));
    }

    @GET
    @Path("/traces")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Recent traces with their feedback, newest first",
            description = "{\"traces\": [{\"trace\": Trace, \"feedback\": [Feedback]}], \"total\": stored traces}")
    @APIResponse(responseCode = "200", description = "The traces")
    @APIResponse(responseCode = "400", description = "Negative page_size",
            content = @Content(mediaType = ProtoJson.PROBLEM_JSON, schema = @Schema(implementation = Problem.class)))
    public String traces(@Parameter(description = "At most this many traces; 0: 50") @QueryParam("page_size") @DefaultValue("20") int pageSize,
            @Parameter(description = "Only traces created before this (epoch ms); 0: no bound") @QueryParam("before_ms") @DefaultValue("0") long beforeMs) {
        return ProtoJson.tracesWithFeedback(call("traces", () -> tuning().listTraces(ListTracesRequest.newBuilder()
                .setPageSize(pageSize).setBeforeMs(beforeMs).build())), this::feedbackOn);
    }

    @GET
    @Path("/traces/{id}")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "One trace with its feedback", description = "{\"trace\": Trace, \"feedback\": [Feedback]}")
    @APIResponse(responseCode = "200", description = "The trace")
    @APIResponse(responseCode = "404", description = "No such trace",
            content = @Content(mediaType = ProtoJson.PROBLEM_JSON, schema = @Schema(implementation = Problem.class)))
    public String trace(@Parameter(description = "The trace_id of an answer") @PathParam("id") String id) {
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

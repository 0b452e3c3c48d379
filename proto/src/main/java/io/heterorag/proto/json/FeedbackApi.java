package io.heterorag.proto.json;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * The HTTP/JSON face of feedback and traces (Tuning.SubmitFeedback, ListTraces, GetTrace, ListFeedback):
 * tuning-service serves it, and generation-service forwards it to tuning-service so that the review page
 * talks to one origin. Bodies are protobuf JSON with the proto's field names (ProtoJson).
 */
@Path("/v1")
@Tag(name = "feedback", description = "Clinicians' feedback on answers, and the traces it is about")
public interface FeedbackApi {

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
    @APIResponse(responseCode = "503", description = "tuning-service is down (through generation-service)",
            content = @Content(mediaType = ProtoJson.PROBLEM_JSON, schema = @Schema(implementation = Problem.class)))
    String feedback(String body);

    @GET
    @Path("/traces")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Recent traces with their feedback, newest first",
            description = "{\"traces\": [{\"trace\": Trace, \"feedback\": [Feedback]}], \"total\": stored traces}")
    @APIResponse(responseCode = "200", description = "The traces")
    @APIResponse(responseCode = "400", description = "Negative page_size",
            content = @Content(mediaType = ProtoJson.PROBLEM_JSON, schema = @Schema(implementation = Problem.class)))
    String traces(@Parameter(description = "At most this many traces; 0: 50") @QueryParam("page_size") @DefaultValue("20") int pageSize,
            @Parameter(description = "Only traces created before this (epoch ms); 0: no bound") @QueryParam("before_ms") @DefaultValue("0") long beforeMs);

    @GET
    @Path("/traces/{id}")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "One trace with its feedback", description = "{\"trace\": Trace, \"feedback\": [Feedback]}")
    @APIResponse(responseCode = "200", description = "The trace")
    @APIResponse(responseCode = "404", description = "No such trace",
            content = @Content(mediaType = ProtoJson.PROBLEM_JSON, schema = @Schema(implementation = Problem.class)))
    String trace(@Parameter(description = "The trace_id of an answer") @PathParam("id") String id);
}

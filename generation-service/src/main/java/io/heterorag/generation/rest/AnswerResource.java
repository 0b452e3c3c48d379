package io.heterorag.generation.rest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

import jakarta.ws.rs.BeanParam;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.heterorag.generation.pipeline.RagPipeline;
import io.heterorag.proto.json.Problem;
import io.heterorag.proto.json.ProtoJson;
import io.heterorag.proto.v1.AnswerOptions;
import io.heterorag.proto.v1.AnswerRequest;
import io.heterorag.proto.v1.AnswerResponse;
import io.heterorag.proto.v1.AnswerSegment;
import io.heterorag.proto.v1.Image;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.Task;
import io.quarkus.logging.Log;
import io.smallrye.common.annotation.Blocking;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * ClinicalRag over HTTP/JSON: the same RagPipeline as the gRPC service, the request and response as
 * protobuf JSON with the proto's field names. Every endpoint is a blocking method, so Quarkus REST runs
 * it on a worker thread, never on the IO event loop.
 */
@Path("/v1")
@Tag(name = "answer", description = "Answers with the evidence behind them (the gRPC ClinicalRag service over HTTP)")
public class AnswerResource {

    private final RagPipeline pipeline;

    public AnswerResource(RagPipeline pipeline) {
        this.pipeline = pipeline;
    }

    @POST
    @Path("/answer")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Answer a question about an image (JSON)",
            description = "The body is an AnswerRequest in protobuf JSON: the image's bytes base64-encoded in image.data.")
    @RequestBody(content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(ref = "AnswerRequest")))
    @APIResponse(responseCode = "200", description = "The answer with its evidence",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(ref = "AnswerResponse")))
    @APIResponse(responseCode = "400", description = "Bad input", content = @Content(mediaType = ProtoJson.PROBLEM_JSON,
            schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "413", description = "Image over the size limit", content = @Content(mediaType = ProtoJson.PROBLEM_JSON,
            schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "A backing service is down (the detail names the stage)",
            content = @Content(mediaType = ProtoJson.PROBLEM_JSON, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "504", description = "The deadline passed (the detail names the stage)",
            content = @Content(mediaType = ProtoJson.PROBLEM_JSON, schema = @Schema(implementation = Problem.class)))
    public String answerJson(String body) {
        return ProtoJson.print(answer(ProtoJson.parse(body, AnswerRequest.newBuilder()).build()));
    }

    @POST
    @Path("/answer")
    @Consumes(MediaType.MULTIPART_FORM_DATA)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Answer a question about an image (multipart upload)")
    @APIResponse(responseCode = "200", description = "The answer with its evidence",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(ref = "AnswerResponse")))
    @APIResponse(responseCode = "400", description = "Bad input", content = @Content(mediaType = ProtoJson.PROBLEM_JSON,
            schema = @Schema(implementation = Problem.class)))
    public String answerForm(@BeanParam AnswerForm form) {
        return ProtoJson.print(answer(request(form)));
    }

    @POST
    @Path("/answer:stream")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @Operation(summary = "Answer as Server-Sent Events (JSON request)",
            description = "Events in the gRPC StreamAnswer's order: one `evidence` (Evidence), zero or more `segment` "
                    + "(AnswerSegment), one `done` (AnswerResponse), each a line of protobuf JSON. Bad input and failures "
                    + "before the evidence get the unary endpoint's status and problem body; a failure after it ends the "
                    + "stream with an `error` event carrying the problem document.")
    @RequestBody(content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(ref = "AnswerRequest")))
    @APIResponse(responseCode = "200", description = "The event stream", content = @Content(mediaType = MediaType.SERVER_SENT_EVENTS))
    @APIResponse(responseCode = "400", description = "Bad input", content = @Content(mediaType = ProtoJson.PROBLEM_JSON,
            schema = @Schema(implementation = Problem.class)))
    @Blocking
    public void streamJson(String body, @Context SseEventSink sink, @Context Sse sse) {
        stream(ProtoJson.parse(body, AnswerRequest.newBuilder()).build(), sink, sse);
    }

    @POST
    @Path("/answer:stream")
    @Consumes(MediaType.MULTIPART_FORM_DATA)
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @Operation(summary = "Answer as Server-Sent Events (multipart upload)")
    @APIResponse(responseCode = "200", description = "The event stream", content = @Content(mediaType = MediaType.SERVER_SENT_EVENTS))
    @Blocking
    public void streamForm(@BeanParam AnswerForm form, @Context SseEventSink sink, @Context Sse sse) {
        stream(request(form), sink, sse);
    }

    /**
     * Runs on a worker thread. Until the first event is sent nothing of the response is written, so a
     * refusal or a failed stage throws and becomes the unary endpoint's status and problem body; after
     * it, a failure is the stream's last event ("error"). Each send is awaited: the events leave in order.
     */
    private void stream(AnswerRequest req, SseEventSink sink, Sse sse) {
        AtomicBoolean started = new AtomicBoolean();
        try {
            AnswerResponse res = pipeline.run(req, evidence -> {
                started.set(true);
                send(sink, sse, "evidence", ProtoJson.print(evidence));
            }, s -> send(sink, sse, "segment", ProtoJson.print(AnswerSegment.newBuilder().setText(s.text())
                    .addAllCitations(s.citations()))));
            send(sink, sse, "done", ProtoJson.print(res));
            log(req, res);
        } catch (RuntimeException e) {
            StatusRuntimeException status = refused(req, e);
            if (!started.get()) {
                throw status; // nothing written yet: the sink stays open for the exception mapper's response
            }
            send(sink, sse, "error", ProtoJson.problem(status));
        }
        sink.close();
    }

    private static void send(SseEventSink sink, Sse sse, String name, String json) {
        if (!sink.isClosed()) { // the client may have gone; the answer is still traced
            sink.send(sse.newEventBuilder().name(name).mediaType(MediaType.TEXT_PLAIN_TYPE).data(String.class, json).build())
                    .toCompletableFuture().join();
        }
    }

    private AnswerResponse answer(AnswerRequest req) {
        try {
            AnswerResponse res = pipeline.run(req, evidence -> {
            }, segment -> {
            });
            log(req, res);
            return res;
        } catch (RuntimeException e) {
            throw refused(req, e);
        }
    }

    /** The form as an AnswerRequest; names of tasks and modalities are the proto's, any case. */
    static AnswerRequest request(AnswerForm form) {
        AnswerRequest.Builder b = AnswerRequest.newBuilder();
        if (form.image != null) {
            try {
                byte[] data = Files.readAllBytes(form.image.uploadedFile());
                String type = form.image.contentType() == null ? "" : form.image.contentType().toLowerCase(Locale.ROOT);
                b.setImage(Image.newBuilder().setData(ByteString.copyFrom(data))
                        .setMediaType(type.equals("application/octet-stream") ? "" : type));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        if (form.question != null) {
            b.setQuestion(form.question);
        }
        if (form.requestId != null) {
            b.setRequestId(form.requestId);
        }
        if (form.task != null && !form.task.isBlank()) {
            b.setTask(named(Task.class, "task", form.task));
        }
        if (form.modality != null && !form.modality.isBlank()) {
            b.setModality(named(Modality.class, "modality", form.modality));
        }
        if (form.options != null && !form.options.isBlank()) {
            b.setOptions(ProtoJson.parse(form.options, AnswerOptions.newBuilder()));
        }
        return b.build();
    }

    private static <E extends Enum<E>> E named(Class<E> type, String field, String name) {
        try {
            E e = Enum.valueOf(type, name.strip().toUpperCase(Locale.ROOT));
            if (!e.name().equals("UNRECOGNIZED") && !e.name().endsWith("_UNSPECIFIED")) {
                return e;
            }
        } catch (IllegalArgumentException ignored) {
            // refused below, naming the values
        }
        throw Status.INVALID_ARGUMENT.withDescription("unknown " + field + " " + name + " (one of " + Arrays.stream(type.getEnumConstants())
                .map(Enum::name).filter(n -> !n.equals("UNRECOGNIZED") && !n.endsWith("_UNSPECIFIED")).toList() + ")").asRuntimeException();
    }

    // as the gRPC service: a status passes as it is, anything else is INTERNAL; ids and sizes only in the log
    private static StatusRuntimeException refused(AnswerRequest req, RuntimeException e) {
        String id = req == null ? "" : req.getRequestId();
        if (e instanceof StatusRuntimeException sre) {
            Log.infof("http request %s refused: %s (image %d bytes)", id, sre.getStatus().getCode(),
                    req == null ? 0 : req.getImage().getData().size());
            return sre;
        }
        Log.errorf(e, "http request %s failed", id);
        return Status.INTERNAL.withDescription("answer failed: " + e.getMessage()).asRuntimeException();
    }

    private static void log(AnswerRequest req, AnswerResponse res) {
        Log.infof("answered over http request=%s trace=%s answerer=%s image_bytes=%d question_chars=%d reports=%d knowledge=%d "
                + "answer_chars=%d", req.getRequestId(), res.getTraceId(), res.getModels().getAnswerer(), req.getImage().getData().size(),
                req.getQuestion().length(), res.getReportsCount(), res.getKnowledgeCount(), res.getAnswer().length());
    }
}

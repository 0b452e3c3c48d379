package io.heterorag.proto.json;

import java.util.List;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.heterorag.proto.v1.Feedback;
import io.heterorag.proto.v1.ListTracesResponse;
import io.heterorag.proto.v1.SubmitFeedbackResponse;
import io.heterorag.proto.v1.Trace;

/**
 * The HTTP/JSON form of the heterorag.v1 contracts, shared by every service's REST transport: protobuf's
 * JSON mapping with the proto's field names (snake_case), enums by name, int64 as strings (as
 * protobuf JSON does), bytes base64; and errors as RFC 9457 problem documents carrying the gRPC
 * status and message, so both transports refuse alike.
 */
public final class ProtoJson {

    public static final String PROBLEM_JSON = "application/problem+json";

    private static final JsonFormat.Printer PRINTER = JsonFormat.printer().preservingProtoFieldNames()
            .alwaysPrintFieldsWithNoPresence().omittingInsignificantWhitespace();
    // unknown fields are refused: a misspelt option must not be silently dropped
    private static final JsonFormat.Parser PARSER = JsonFormat.parser();

    private ProtoJson() {
    }

    /** One line of JSON with the proto field names; fields at their default value are printed too. */
    public static String print(MessageOrBuilder m) {
        try {
            return PRINTER.print(m);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("not printable as JSON: " + m.getClass().getSimpleName(), e);
        }
    }

    /** Parses into {@code builder}; a body that is not this message's JSON is INVALID_ARGUMENT naming the message. */
    public static <B extends Message.Builder> B parse(String json, B builder) {
        if (json == null || json.isBlank()) {
            throw Status.INVALID_ARGUMENT.withDescription("the body is empty (expected a JSON "
                    + builder.getDescriptorForType().getName() + ")").asRuntimeException();
        }
        try {
            PARSER.merge(json, builder);
            return builder;
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            throw Status.INVALID_ARGUMENT.withDescription("the body is not a valid JSON " + builder.getDescriptorForType().getName()
                    + ": " + e.getMessage()).asRuntimeException();
        }
    }

    /** A trace with the feedback given on it: {"trace": Trace, "feedback": [Feedback]}. */
    public static String traceWithFeedback(Trace trace, List<Feedback> feedback) {
        return "{\"trace\":" + print(trace) + ",\"feedback\":[" + feedback.stream().map(ProtoJson::print)
                .collect(Collectors.joining(",")) + "]}";
    }

    /** Recent traces with their feedback: {"traces": [traceWithFeedback], "total": "N"}. */
    public static String tracesWithFeedback(ListTracesResponse page, Function<String, List<Feedback>> feedbackOn) {
        return "{\"traces\":[" + page.getTracesList().stream().map(t -> traceWithFeedback(t, feedbackOn.apply(t.getTraceId())))
                .collect(Collectors.joining(",")) + "],\"total\":\"" + page.getTotal() + "\"}";
    }

    /** Feedback as the REST APIs take it: a new feedback_id when the client gives none. */
    public static Feedback feedback(String json) {
        Feedback.Builder f = parse(json, Feedback.newBuilder());
        if (f.getFeedbackId().isEmpty()) {
            f.setFeedbackId(UUID.randomUUID().toString());
        }
        return f.build();
    }

    /** The REST answer to submitted feedback: {"feedback_id": …, "stored": …}. */
    public static String submitted(Feedback f, SubmitFeedbackResponse r) {
        return "{\"feedback_id\":" + quote(f.getFeedbackId()) + ",\"stored\":" + r.getStored() + "}";
    }

    /** The HTTP status of a gRPC status, for the REST transports. */
    public static int httpStatus(Status status) {
        return switch (status.getCode()) {
            case INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE -> 400;
            case UNAUTHENTICATED -> 401;
            case PERMISSION_DENIED -> 403;
            case NOT_FOUND -> 404;
            case ALREADY_EXISTS, ABORTED -> 409;
            // an image or body over the size limit; any other exhaustion is overload (too many requests)
            case RESOURCE_EXHAUSTED -> String.valueOf(status.getDescription()).contains("bytes") ? 413 : 429;
            case CANCELLED -> 499;
            case UNIMPLEMENTED -> 501;
            case UNAVAILABLE -> 503;
            case DEADLINE_EXCEEDED -> 504;
            default -> 500;
        };
    }

    /** An RFC 9457 problem document: status, title, detail (the gRPC message) and grpc_status. */
    public static String problem(Status status) {
        int http = httpStatus(status);
        String detail = status.getDescription() == null ? status.getCode().toString() : status.getDescription();
        return "{\"type\":\"about:blank\",\"title\":" + quote(title(http)) + ",\"status\":" + http + ",\"detail\":" + quote(detail)
                + ",\"grpc_status\":" + quote(status.getCode().name()) + "}";
    }

    public static String problem(StatusRuntimeException e) {
        return problem(e.getStatus());
    }

    private static String title(int http) {
        return switch (http) {
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 409 -> "Conflict";
            case 413 -> "Content Too Large";
            case 429 -> "Too Many Requests";
            case 499 -> "Client Closed Request";
            case 501 -> "Not Implemented";
            case 503 -> "Service Unavailable";
            case 504 -> "Gateway Timeout";
            default -> "Internal Server Error";
        };
    }

    /** A JSON string literal (the printer's own escaping, via a protobuf StringValue). */
    public static String quote(String s) {
        return print(com.google.protobuf.StringValue.of(s));
    }
}

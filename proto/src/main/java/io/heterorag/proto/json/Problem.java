package io.heterorag.proto.json;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** The error body's shape, for the OpenAPI document only (ProtoJson.problem writes it). */
@Schema(name = "Problem", description = "RFC 9457 problem document: the same message as the gRPC API's status.")
public record Problem(
        @Schema(description = "Always about:blank: the status says what kind of problem it is.") String type,
        @Schema(description = "The HTTP status's reason phrase.") String title,
        @Schema(description = "The HTTP status: 400 bad input, 413 image over the size limit, 429 overloaded, 401/403 "
                + "not authenticated/allowed, 404 no such trace, 503 a backing service is down, 504 the deadline passed "
                + "(the detail names the stage).") int status,
        @Schema(description = "What was wrong, as the gRPC API says it (e.g. \"question is empty (required for VQA tasks)\", "
                + "\"stage reports: …\").") String detail,
        @Schema(description = "The gRPC status code of the same failure (INVALID_ARGUMENT, RESOURCE_EXHAUSTED, "
                + "DEADLINE_EXCEEDED, UNAVAILABLE, …).") String grpc_status) {
}

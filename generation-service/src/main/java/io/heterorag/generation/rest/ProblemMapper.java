package io.heterorag.generation.rest;

import jakarta.ws.rs.core.Response;

import io.grpc.StatusRuntimeException;
import io.heterorag.proto.json.ProtoJson;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** A refused or failed request as application/problem+json, with the gRPC status's message (ProtoJson.httpStatus). */
public class ProblemMapper {

    @ServerExceptionMapper
    public Response problem(StatusRuntimeException e) {
        return Response.status(ProtoJson.httpStatus(e.getStatus())).type(ProtoJson.PROBLEM_JSON).entity(ProtoJson.problem(e)).build();
    }
}

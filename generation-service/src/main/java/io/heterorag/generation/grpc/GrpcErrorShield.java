package io.heterorag.generation.grpc;

import jakarta.enterprise.context.ApplicationScoped;

import io.heterorag.model.grpc.ErrorShield;
import io.quarkus.grpc.GlobalInterceptor;

/** No exception text reaches a caller of this service: see {@link ErrorShield}. */
@ApplicationScoped
@GlobalInterceptor
public class GrpcErrorShield extends ErrorShield {
}

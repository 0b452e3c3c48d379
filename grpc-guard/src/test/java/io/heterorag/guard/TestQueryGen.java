package io.heterorag.guard;

import io.heterorag.proto.v1.GenerateQueriesRequest;
import io.heterorag.proto.v1.GenerateQueriesResponse;
import io.heterorag.proto.v1.QueryGenGrpc;
import io.quarkus.grpc.GrpcService;
import io.grpc.stub.StreamObserver;

/** A service for the secured test server to serve. */
@GrpcService
public class TestQueryGen extends QueryGenGrpc.QueryGenImplBase {
    @Override
    public void generateQueries(GenerateQueriesRequest request, StreamObserver<GenerateQueriesResponse> out) {
        out.onNext(GenerateQueriesResponse.newBuilder().setGenerator("test@1").build());
        out.onCompleted();
    }
}

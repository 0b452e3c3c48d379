package io.heterorag.querygen.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.InputStream;

import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.Status;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

/** The in-flight gauge: up while a call is served, down once when it is closed or cancelled; gRPC's own services not counted. */
class InFlightRequestsTest {

    static final MethodDescriptor.Marshaller<String> STRINGS = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes());
        }

        @Override
        public String parse(InputStream stream) {
            return "";
        }
    };

    /** A call of the given full method name that records nothing: the interceptor's view of one call. */
    static ServerCall<String, String> call(String fullMethod) {
        MethodDescriptor<String, String> m = MethodDescriptor.<String, String>newBuilder().setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(fullMethod).setRequestMarshaller(STRINGS).setResponseMarshaller(STRINGS).build();
        return new ServerCall<>() {
            @Override
            public void request(int numMessages) {
            }

            @Override
            public void sendHeaders(Metadata headers) {
            }

            @Override
            public void sendMessage(String message) {
            }

            @Override
            public void close(Status status, Metadata trailers) {
            }

            @Override
            public boolean isCancelled() {
                return false;
            }

            @Override
            public MethodDescriptor<String, String> getMethodDescriptor() {
                return m;
            }
        };
    }

    @Test
    void countsCallsBeingServedAndEachEndOnce() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        InFlightRequests gauge = new InFlightRequests(registry);
        ServerCall<String, String>[] served = new ServerCall[3];
        var a = gauge.interceptCall(call("heterorag.v1.QueryGen/GenerateQueries"), new Metadata(), (c, h) -> {
            served[0] = c;
            return new ServerCall.Listener<>() { };
        });
        var b = gauge.interceptCall(call("heterorag.v1.QueryGen/GenerateQueries"), new Metadata(), (c, h) -> {
            served[1] = c;
            return new ServerCall.Listener<>() { };
        });
        gauge.interceptCall(call("grpc.health.v1.Health/Check"), new Metadata(), (c, h) -> new ServerCall.Listener<>() { });
        assertEquals(2.0, registry.get("heterorag_querygen_requests_in_flight").gauge().value(), "health checks are not counted");

        served[0].close(Status.OK, new Metadata());
        a.onCancel(); // a cancel after the close does not count twice
        assertEquals(1, gauge.inFlight());
        b.onCancel();
        served[1].close(Status.CANCELLED, new Metadata());
        assertEquals(0, gauge.inFlight());
    }
}

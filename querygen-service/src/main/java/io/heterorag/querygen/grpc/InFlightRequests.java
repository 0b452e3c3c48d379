package io.heterorag.querygen.grpc;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.context.ApplicationScoped;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.grpc.GlobalInterceptor;

/**
 * heterorag_querygen_requests_in_flight: the platform's calls this pod is serving right now, the
 * per-pod metric the chart's HorizontalPodAutoscaler scales querygen on. gRPC's own services (health,
 * reflection) are not counted. A call leaves the count once, when it is closed or cancelled.
 */
@ApplicationScoped
@GlobalInterceptor
public class InFlightRequests implements ServerInterceptor {

    private final AtomicInteger inFlight = new AtomicInteger();

    public InFlightRequests(MeterRegistry registry) {
        Gauge.builder("heterorag_querygen_requests_in_flight", inFlight, AtomicInteger::get)
                .description("QueryGen calls being served by this pod").register(registry);
    }

    public int inFlight() {
        return inFlight.get();
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        if (call.getMethodDescriptor().getServiceName() == null || call.getMethodDescriptor().getServiceName().startsWith("grpc.")) {
            return next.startCall(call, headers);
        }
        inFlight.incrementAndGet();
        AtomicBoolean ended = new AtomicBoolean();
        Runnable end = () -> {
            if (ended.compareAndSet(false, true)) {
                inFlight.decrementAndGet();
            }
        };
        ServerCall<Q, R> counted = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                try {
                    super.close(status, trailers);
                } finally {
                    end.run();
                }
            }
        };
        try {
            return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(counted, headers)) {
                @Override
                public void onCancel() {
                    try {
                        super.onCancel();
                    } finally {
                        end.run();
                    }
                }
            };
        } catch (RuntimeException | Error e) {
            end.run();
            throw e;
        }
    }
}

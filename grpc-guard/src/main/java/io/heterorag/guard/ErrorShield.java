package io.heterorag.guard;

import java.util.UUID;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Pattern;

import jakarta.enterprise.context.ApplicationScoped;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;

/**
 * Keeps internal exception text from callers: a call that ends UNKNOWN (an uncaught exception or Error,
 * OutOfMemoryError included) or INTERNAL reaches the caller as INTERNAL "internal error ID", and the
 * service's log gets the ID with the original status and its cause. A status this shield (or a downstream
 * one) already made generic passes through, so "stage queries: internal error ID" keeps the stage and
 * the downstream ID. Every service that depends on this module has it as a global interceptor.
 */
@ApplicationScoped
@GlobalInterceptor
public class ErrorShield implements ServerInterceptor {

    private static final Logger LOG = Logger.getLogger(ErrorShield.class.getName());
    static final Pattern GENERIC = Pattern.compile("(stage [a-z]+: )*internal error [0-9a-f]{12}( .*)?");

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String method = call.getMethodDescriptor().getFullMethodName();
        ServerCall<Q, R> shielded = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                super.close(shield(status, method), trailers);
            }
        };
        ServerCall.Listener<Q> listener = next.startCall(shielded, headers);
        // an exception or Error thrown by the handler is closed here, through the shield: left to grpc-java it
        // would cancel the stream without passing close(), and other interceptors may format it their own way
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onMessage(Q message) {
                guard(() -> super.onMessage(message));
            }

            @Override
            public void onHalfClose() {
                guard(super::onHalfClose);
            }

            private void guard(Runnable r) {
                try {
                    r.run();
                } catch (Throwable t) {
                    try {
                        shielded.close(Status.UNKNOWN.withCause(t).withDescription(t.toString()), new Metadata());
                    } catch (IllegalStateException alreadyClosed) {
                        LOG.log(Level.SEVERE, "exception after " + method + " was closed", t);
                    }
                }
            }
        };
    }

    /** The status a caller may see. */
    static Status shield(Status status, String method) {
        Status.Code code = status.getCode();
        if (code != Status.Code.UNKNOWN && code != Status.Code.INTERNAL) {
            return status;
        }
        if (status.getDescription() != null && GENERIC.matcher(status.getDescription()).matches()) {
            return status;
        }
        String id = UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        // the original text goes to the log only: exception messages hold no patient data, but class names and
        // internals are not the caller's business
        LOG.log(Level.SEVERE, "internal error " + id + " in " + method + ": " + code + " " + status.getDescription(), status.getCause());
        return Status.INTERNAL.withDescription("internal error " + id + " (the service's log has the details)");
    }
}

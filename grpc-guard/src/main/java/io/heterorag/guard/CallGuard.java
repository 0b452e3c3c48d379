package io.heterorag.guard;

import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GlobalInterceptor;
import org.jboss.logging.Logger;

/**
 * Every gRPC call of a service passes here. When security is on, the caller is a platform service
 * (a client certificate the server's trust store verified: role {@code internal}) or the holder of
 * an API key ({@code authorization: Bearer <key>}); no credentials or a bad key → UNAUTHENTICATED, a
 * known caller without the method's role → PERMISSION_DENIED. Health checks stay open for probes.
 * Security on or off, each call leaves one audit line: caller, method, status, request id, sizes and
 * latency — never message contents.
 */
@ApplicationScoped
@GlobalInterceptor
public class CallGuard implements ServerInterceptor {

    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final Logger AUDIT = Logger.getLogger("io.heterorag.audit");

    private final boolean enabled;
    private final ApiKeys keys;

    @Inject
    public CallGuard(SecurityConfig config) {
        this(config.enabled(), !config.enabled() ? ApiKeys.of(Map.of()) : ApiKeys.read(config.apiKeysFile().orElseThrow(
                () -> new IllegalStateException("heterorag.security.enabled=true needs heterorag.security.api-keys-file"))));
    }

    public CallGuard(boolean enabled, ApiKeys keys) {
        this.enabled = enabled;
        this.keys = keys;
    }

    /** The role a method needs; null for health checks, which probes call without credentials. */
    public static String requiredRole(String fullMethodName) {
        String service = String.valueOf(MethodDescriptor.extractFullServiceName(fullMethodName));
        return switch (service) {
            case "heterorag.v1.ClinicalRag" -> Caller.CLINICAL;
            case "heterorag.v1.Tuning" -> Caller.ML;
            case "heterorag.v1.Retrieval" -> fullMethodName.endsWith("/Ingest") ? Caller.INGEST : Caller.INTERNAL;
            case "grpc.health.v1.Health" -> null;
            default -> Caller.INTERNAL; // QueryGen, reflection and anything added later
        };
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        long started = System.nanoTime();
        String method = call.getMethodDescriptor().getFullMethodName();
        String role = requiredRole(method);
        Caller caller = Caller.ANONYMOUS;
        if (enabled && role != null) {
            Caller known;
            try {
                Optional<Caller> peer = peer(call);
                known = peer.isPresent() ? peer.get() : identify(headers.get(AUTHORIZATION));
            } catch (StatusRuntimeException e) {
                return refuse(call, started, "unauthenticated", e.getStatus());
            }
            try {
                caller = permit(known, role, MethodDescriptor.extractFullServiceName(method));
            } catch (StatusRuntimeException e) {
                return refuse(call, started, known.name(), e.getStatus());
            }
        }
        Audited<Q, R> audited = new Audited<>(call, caller.name(), method, started);
        ServerCall.Listener<Q> listener = next.startCall(audited, headers);
        return new SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onMessage(Q message) {
                audited.received(message);
                super.onMessage(message);
            }

            @Override
            public void onCancel() {
                audited.log(Status.CANCELLED);
                super.onCancel();
            }
        };
    }

    /**
     * The caller an {@code authorization} value ("Bearer <API key>", from gRPC metadata or an HTTP header)
     * names, if it holds {@code role}; {@code what} names the API in the refusal. UNAUTHENTICATED without a
     * known key, PERMISSION_DENIED without the role. Everyone passes while security is off.
     */
    public Caller authorize(String authorization, String role, String what) {
        if (!enabled || role == null) {
            return Caller.ANONYMOUS;
        }
        return permit(identify(authorization), role, what);
    }

    private Caller identify(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw Status.UNAUTHENTICATED.withDescription("missing credentials: send 'authorization: Bearer <API key>'").asRuntimeException();
        }
        return keys.caller(authorization.substring(7).strip())
                .orElseThrow(() -> Status.UNAUTHENTICATED.withDescription("invalid API key").asRuntimeException());
    }

    private static Caller permit(Caller caller, String role, String what) {
        if (!caller.roles().contains(role)) {
            throw Status.PERMISSION_DENIED.withDescription("caller " + caller.name() + " lacks the role '" + role + "' that " + what + " requires")
                    .asRuntimeException();
        }
        return caller;
    }

    private static <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, long started, String caller, Status status) {
        call.close(status, new Metadata());
        audit(caller, call.getMethodDescriptor().getFullMethodName(), status, "-", 0, 0, started);
        return new ServerCall.Listener<>() {
        };
    }

    /** A platform service: the client certificate the TLS handshake verified against the platform CA. */
    private static Optional<Caller> peer(ServerCall<?, ?> call) {
        SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
        if (session == null) {
            return Optional.empty();
        }
        try {
            Certificate[] chain = session.getPeerCertificates();
            if (chain.length > 0 && chain[0] instanceof X509Certificate cert) {
                return Optional.of(new Caller("service:" + commonName(cert), Set.of(Caller.INTERNAL)));
            }
        } catch (SSLPeerUnverifiedException e) {
            // no client certificate: an API key must say who calls
        }
        return Optional.empty();
    }

    static String commonName(X509Certificate cert) {
        try {
            for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return rdn.getValue().toString();
                }
            }
        } catch (InvalidNameException e) {
            // fall through
        }
        return cert.getSubjectX500Principal().getName();
    }

    private static void audit(String caller, String method, Status status, String requestId, long in, long out, long started) {
        AUDIT.infof("caller=%s method=%s status=%s request_id=%s request_bytes=%d response_bytes=%d millis=%.1f", caller, method,
                status.getCode(), requestId, in, out, (System.nanoTime() - started) / 1e6);
    }

    /** Request ids are the caller's: only a short run of plain characters is logged. */
    static String requestId(Object message) {
        if (message instanceof Message m) {
            FieldDescriptor f = m.getDescriptorForType().findFieldByName("request_id");
            if (f != null && f.getJavaType() == FieldDescriptor.JavaType.STRING) {
                String id = (String) m.getField(f);
                if (!id.isEmpty() && id.length() <= 64 && id.matches("[A-Za-z0-9._:-]+")) {
                    return id;
                }
                return id.isEmpty() ? "-" : "(" + id.length() + " chars, not logged)";
            }
        }
        return "-";
    }

    /** Counts the bytes each way and logs the call once, when it is closed or cancelled. */
    private static final class Audited<Q, R> extends SimpleForwardingServerCall<Q, R> {
        private final String caller;
        private final String method;
        private final long started;
        private final AtomicLong in = new AtomicLong();
        private final AtomicLong out = new AtomicLong();
        private final AtomicBoolean logged = new AtomicBoolean();
        private volatile String requestId = "-";

        Audited(ServerCall<Q, R> call, String caller, String method, long started) {
            super(call);
            this.caller = caller;
            this.method = method;
            this.started = started;
        }

        void received(Q message) {
            if (in.get() == 0) {
                requestId = requestId(message);
            }
            in.addAndGet(size(message));
        }

        @Override
        public void sendMessage(R message) {
            out.addAndGet(size(message));
            super.sendMessage(message);
        }

        @Override
        public void close(Status status, Metadata trailers) {
            log(status);
            super.close(status, trailers);
        }

        void log(Status status) {
            if (logged.compareAndSet(false, true)) {
                audit(caller, method, status, requestId, in.get(), out.get(), started);
            }
        }

        private static long size(Object message) {
            return message instanceof Message m ? m.getSerializedSize() : 0;
        }
    }
}

package io.heterorag.guard;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Function;

import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.TlsChannelCredentials;

/**
 * The settings that make a service secure, from a directory of {@link LocalCertificates}: TLS only
 * on its gRPC server (client certificates of the platform CA requested, so the platform's services are
 * known by them), callers checked by {@link CallGuard}, and mutual TLS on its clients of the other
 * services. {@code ./heterorag up --secure} writes them per service and passes the file to Quarkus.
 */
public final class SecureSettings {

    /** The gRPC clients the services declare ({@code @GrpcClient} names). */
    static final List<String> CLIENTS = List.of("retrieval", "querygen", "generation", "tuning");

    private SecureSettings() {
    }

    public static Map<String, String> server(Path dir, String service) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("quarkus.grpc.server.plain-text", "false");
        p.put("quarkus.grpc.server.ssl.certificate", dir.resolve(service + ".crt").toString());
        p.put("quarkus.grpc.server.ssl.key", dir.resolve(service + ".key").toString());
        p.put("quarkus.grpc.server.ssl.trust-store", dir.resolve(LocalCertificates.TRUST_STORE).toString());
        p.put("quarkus.grpc.server.ssl.trust-store-password", LocalCertificates.TRUST_STORE_PASSWORD);
        p.put("quarkus.grpc.server.ssl.client-auth", "REQUEST");
        p.put("heterorag.security.enabled", "true");
        p.put("heterorag.security.api-keys-file", dir.resolve("api-keys").toString());
        for (String client : CLIENTS) {
            String c = "quarkus.grpc.clients." + client + ".";
            p.put(c + "plain-text", "false");
            p.put(c + "ssl.trust-store", dir.resolve("ca.crt").toString());
            p.put(c + "ssl.certificate", dir.resolve(service + ".crt").toString());
            p.put(c + "ssl.key", dir.resolve(service + ".key").toString());
        }
        return p;
    }

    /** Writes {@link #server} as {@code SERVICE.properties} in {@code dir} and returns the file. */
    public static Path write(Path dir, String service) {
        Properties props = new Properties();
        props.putAll(server(dir, service));
        Path file = dir.resolve(service + ".properties");
        try (Writer w = Files.newBufferedWriter(file)) {
            props.store(w, "secure settings of " + service + " (written by heterorag up --secure)");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /**
     * A channel to {@code target} made as Quarkus makes its {@code @GrpcClient(client)} channel from the
     * same settings ({@code setting}: a key's value, e.g. from the service's config): mutual TLS with the
     * service's own certificate when {@code quarkus.grpc.clients.CLIENT.plain-text} is false, else plain
     * text. For code that learns its target at run time (a training job scoring with retrieval).
     */
    public static ManagedChannel clientChannel(String target, String client, Function<String, Optional<String>> setting) {
        String c = "quarkus.grpc.clients." + client + ".";
        if (!setting.apply(c + "plain-text").map("false"::equalsIgnoreCase).orElse(false)) {
            return ManagedChannelBuilder.forTarget(target).usePlaintext().build();
        }
        try {
            TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder();
            Optional<String> ca = setting.apply(c + "ssl.trust-store");
            if (ca.isPresent()) {
                tls.trustManager(new File(ca.get()));
            }
            Optional<String> cert = setting.apply(c + "ssl.certificate");
            Optional<String> key = setting.apply(c + "ssl.key");
            if (cert.isPresent() && key.isPresent()) {
                tls.keyManager(new File(cert.get()), new File(key.get()));
            }
            return Grpc.newChannelBuilder(target, tls.build()).build();
        } catch (IOException e) {
            throw new UncheckedIOException("the TLS files of gRPC client '" + client + "' cannot be read: " + e.getMessage(), e);
        }
    }
}

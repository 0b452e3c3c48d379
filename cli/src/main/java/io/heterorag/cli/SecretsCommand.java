package io.heterorag.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

import io.heterorag.guard.ApiKeys;
import io.heterorag.guard.Caller;
import io.heterorag.guard.LocalCertificates;
import io.heterorag.guard.SecureSettings;

/**
 * {@code secrets DIR}: what {@code ./heterorag up --secure} runs — a local CA and a certificate per
 * service, an API key with every role (the key in {@code api-key}, readable by the owner only; its
 * hash in {@code api-keys}, which the services read), and each service's secure settings. Existing
 * secrets are kept, so a restarted stack keeps its CA and key.
 */
final class SecretsCommand {

    static final List<String> SERVICES = List.of("retrieval", "querygen", "generation", "tuning");

    private SecretsCommand() {
    }

    static int run(Args args) {
        if (args.positional.size() != 1) {
            throw new Args.UsageException("usage: secrets DIR");
        }
        Path dir = Path.of(args.positional.get(0)).toAbsolutePath();
        try {
            write(dir);
        } catch (IOException e) {
            throw new IllegalStateException("secrets cannot be written to " + dir + ": " + e.getMessage());
        }
        System.out.println("ca=" + dir.resolve("ca.crt"));
        System.out.println("api_key_file=" + dir.resolve("api-key"));
        return 0;
    }

    private static void write(Path dir) throws IOException {
        Path key = dir.resolve("api-key");
        if (!Files.exists(dir.resolve("ca.crt")) || !Files.exists(key)) {
            LocalCertificates.write(dir, SERVICES, Duration.ofDays(365));
            String k = ApiKeys.newKey();
            Files.deleteIfExists(key);
            Files.createFile(key, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(key, k + "\n");
            Files.writeString(dir.resolve("api-keys"), "# sha-256 of the key, caller name, roles\n"
                    + ApiKeys.line(k, "local-operator", Caller.ALL_ROLES) + "\n");
        }
        for (String s : SERVICES) {
            SecureSettings.write(dir, s);
        }
    }
}

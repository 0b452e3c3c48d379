package io.heterorag.guard;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/** Certificates and an API key file made before Quarkus starts, and the settings `up --secure` gives a service. */
public class SecureServerResource implements QuarkusTestResourceLifecycleManager {

    static final Path DIR = Path.of("target", "secure-server").toAbsolutePath();
    static final String KEY = ApiKeys.newKey();
    static final String ML_KEY = ApiKeys.newKey();

    @Override
    public Map<String, String> start() {
        try {
            LocalCertificates.write(DIR, List.of("querygen", "generation"), Duration.ofDays(1));
            Files.writeString(DIR.resolve("api-keys"), ApiKeys.line(KEY, "operator", Caller.ALL_ROLES) + "\n"
                    + ApiKeys.line(ML_KEY, "ml-team", java.util.Set.of(Caller.ML)) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return SecureSettings.server(DIR, "querygen");
    }

    @Override
    public void stop() {
    }
}

package io.heterorag.guard;

import java.nio.file.Path;
import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * heterorag.security.*: who may call the services (CallGuard, in every service; docs/security.md).
 * docs/configuration.md is generated from this interface (ConfigurationDocTest in cli).
 */
@ConfigMapping(prefix = "heterorag.security")
public interface SecurityConfig {

    /**
     * Whether callers are checked: TLS-verified platform services (client certificates of the platform CA)
     * and holders of a key in api-keys-file are let in, by role; false: every caller is let in (each call is
     * still audited).
     */
    @WithDefault("false")
    boolean enabled();

    /** The API key file (hashed keys and their roles); needed when enabled is true. */
    Optional<Path> apiKeysFile();
}

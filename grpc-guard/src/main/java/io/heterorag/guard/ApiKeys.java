package io.heterorag.guard;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * API keys stored hashed: one line per key, {@code <sha-256 hex of the key> <caller name> <role,role…>};
 * blank lines and lines starting with # are ignored. The keys are 256 random bits, so an unsalted
 * SHA-256 cannot be reversed by guessing; the file holds no secret a reader could use to call.
 */
public final class ApiKeys {

    private static final SecureRandom RANDOM = new SecureRandom();

    private final Map<String, Caller> byHash;

    private ApiKeys(Map<String, Caller> byHash) {
        this.byHash = byHash;
    }

    public static ApiKeys of(Map<String, Caller> byHash) {
        return new ApiKeys(Map.copyOf(byHash));
    }

    /** Reads the file; a malformed line fails naming its number, an unknown role fails naming it. */
    public static ApiKeys read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("API key file " + file + " unreadable", e);
        }
        Map<String, Caller> byHash = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\\s+");
            if (f.length != 3 || !f[0].matches("[0-9a-f]{64}")) {
                throw new IllegalArgumentException(file + " line " + (i + 1) + ": expected '<sha-256 hex> <name> <role,role…>'");
            }
            Set<String> roles = Arrays.stream(f[2].split(",")).map(String::strip).collect(Collectors.toUnmodifiableSet());
            for (String r : roles) {
                if (!Caller.ALL_ROLES.contains(r)) {
                    throw new IllegalArgumentException(file + " line " + (i + 1) + ": unknown role " + r + " (roles: "
                            + String.join(", ", Caller.ALL_ROLES.stream().sorted().toList()) + ")");
                }
            }
            byHash.put(f[0], new Caller(f[1], roles));
        }
        return new ApiKeys(Map.copyOf(byHash));
    }

    /** The caller holding this key, if any (compared by hash, in constant time per entry). */
    public Optional<Caller> caller(String key) {
        byte[] h = HexFormat.of().parseHex(hash(key));
        for (Map.Entry<String, Caller> e : byHash.entrySet()) {
            if (MessageDigest.isEqual(h, HexFormat.of().parseHex(e.getKey()))) {
                return Optional.of(e.getValue());
            }
        }
        return Optional.empty();
    }

    public static String hash(String key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A new random key (256 bits, URL-safe base64 with a recognisable prefix). */
    public static String newKey() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return "hrk_" + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** The line that stores {@code key} for {@code name} with {@code roles}. */
    public static String line(String key, String name, Set<String> roles) {
        return hash(key) + " " + name + " " + String.join(",", roles.stream().sorted().toList());
    }
}

package io.heterorag.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Aliases of the embedded store: {@code <root>/.aliases/<alias>} holds the collection's name and is
 * replaced by an atomic rename, so a reader (this process or another one reading the directory) sees
 * the old name or the new one. Collections are the index directories {@code <root>/<name>}.
 */
public final class LuceneAliases implements CollectionAliases {

    private final Path root;
    private final Path dir;

    public LuceneAliases(Path root) {
        this.root = root;
        this.dir = root.resolve(".aliases");
    }

    @Override
    public Optional<String> target(String alias) {
        try {
            return Optional.of(Files.readString(dir.resolve(CollectionAliases.checked(alias)), StandardCharsets.UTF_8).trim());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("alias " + alias + " cannot be read", e);
        }
    }

    @Override
    public void point(String alias, String collection) {
        if (!exists(collection)) {
            throw new IllegalStateException("alias " + alias + ": collection " + collection + " does not exist");
        }
        try {
            Files.createDirectories(dir);
            Path tmp = dir.resolve("." + CollectionAliases.checked(alias) + "." + UUID.randomUUID() + ".tmp");
            Files.writeString(tmp, collection + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, dir.resolve(alias), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("alias " + alias + " cannot be written", e);
        }
    }

    @Override
    public void remove(String alias) {
        try {
            Files.deleteIfExists(dir.resolve(CollectionAliases.checked(alias)));
        } catch (IOException e) {
            throw new UncheckedIOException("alias " + alias + " cannot be removed", e);
        }
    }

    @Override
    public Map<String, String> all() {
        Map<String, String> out = new TreeMap<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                String alias = p.getFileName().toString();
                if (!alias.startsWith(".")) {
                    target(alias).ifPresent(c -> out.put(alias, c));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("aliases cannot be listed", e);
        }
        return out;
    }

    @Override
    public boolean exists(String collection) {
        return Files.isDirectory(root.resolve(CollectionAliases.checked(collection)));
    }
}

package io.heterorag.store;

import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Named pointers to collections, kept in the store itself so that every process using the store
 * reads the same ones: which collection serves a repository, and which collections each serving
 * process still reads (its pins, so that nobody drops them). Re-pointing is atomic: a reader sees the
 * old target or the new one, never neither. Qdrant: collection aliases ({@link QdrantStore});
 * embedded: one small file per alias, replaced by an atomic rename ({@link LuceneAliases}).
 */
public interface CollectionAliases {

    /** Names that both backends keep as given (Qdrant names allow no '@', '.' or '/'). */
    Pattern NAME = Pattern.compile("[A-Za-z0-9_-]+");

    /** The collection the alias points at, if the alias exists. */
    Optional<String> target(String alias);

    /** Creates the alias or atomically re-points it; the collection must exist. */
    void point(String alias, String collection);

    /** Removes the alias; nothing happens if it does not exist. */
    void remove(String alias);

    /** Every alias with its collection. */
    Map<String, String> all();

    /** Whether the collection exists in the store (a collection is created by its first write, or {@link VectorCollection#create}). */
    boolean exists(String collection);

    static String checked(String name) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("alias and collection names are letters, digits, '_' and '-': " + name);
        }
        return name;
    }
}

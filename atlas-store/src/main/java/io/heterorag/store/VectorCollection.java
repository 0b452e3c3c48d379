package io.heterorag.store;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * One MedAtlas collection (a modality's report repository or a text corpus): entries with a unit
 * vector, a text searched by BM25 and metadata, keyed by id and replaced by group. Two backends:
 * {@link LuceneCollection} (embedded, on disk) and {@link QdrantCollection} (a Qdrant server).
 */
public interface VectorCollection extends AutoCloseable {

    /** Metadata keys that searches can filter on (indexed by both backends); other keys are only stored. */
    List<String> FILTER_FIELDS = List.of("source", "modality", "corpus", "kind", "head_id", "document_id");

    /** An entry to store. group ties the chunks of one document together so they are replaced together. */
    record Entry(String id, String group, String hash, String title, String text, float[] vector, byte[] blob,
            Map<String, String> metadata) {
    }

    /** A search result; score is cosine for vector search and BM25 for keyword search ({@link RankFusion} combines them). */
    record Hit(String id, float score, String title, String text, Map<String, String> metadata) {
    }

    String name();

    /** Content hash stored for the group, or null: lets ingest skip unchanged records without embedding. */
    String storedHash(String group);

    /** Stored content hashes of the groups that have one, in one lookup where the backend allows (a batch of records). */
    default Map<String, String> storedHashes(List<String> groups) {
        Map<String, String> out = new java.util.HashMap<>();
        for (String g : groups) {
            String h = storedHash(g);
            if (h != null) {
                out.put(g, h);
            }
        }
        return out;
    }

    /** Replaces every entry of each group present in entries; the entries are searchable on return. */
    void upsert(List<Entry> entries);

    long count();

    /** Creates the collection now for vectors of this size (it is otherwise created by its first write). */
    default void create(int dimension) {
    }

    /**
     * The k nearest entries of an approximate search exploring {@code candidates} (≥ k) entries, among
     * those whose metadata equal every value of filter (keys from {@link #FILTER_FIELDS}).
     */
    List<Hit> nearest(float[] vector, int k, int candidates, Map<String, String> filter);

    default List<Hit> nearest(float[] vector, int k) {
        return nearest(vector, k, k, Map.of());
    }

    /** BM25 over title and text (English stemming and stop words), filtered as in nearest. */
    List<Hit> keyword(String query, int k, Map<String, String> filter);

    default List<Hit> keyword(String query, int k) {
        return keyword(query, k, Map.of());
    }

    /** Every entry, without its vector (to re-embed a repository with a new encoder). */
    void forEach(Consumer<Entry> action);

    /** Compacts after a bulk load where the backend needs it (the embedded index merges its segments). */
    void optimize();

    /** Whether the collection can serve (open, and its server reachable). */
    boolean isOpen();

    /** Closes the collection and deletes its data. */
    void drop();

    @Override
    void close();
}

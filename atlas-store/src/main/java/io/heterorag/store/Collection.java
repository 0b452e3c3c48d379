package io.heterorag.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.IndexableField;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.FSDirectory;

/**
 * One collection of the embedded vector store: a Lucene index on disk with an HNSW vector field
 * (dot product over unit vectors = cosine) and a BM25 text field. Entries are keyed by id, so an
 * upsert of the same id replaces the entry.
 */
public final class Collection implements AutoCloseable {

    static final String ID = "id";
    static final String GROUP = "group";
    static final String HASH = "hash";
    static final String TITLE = "title";
    static final String TEXT = "text";
    static final String VECTOR = "vector";
    static final String BLOB = "blob";
    static final String META_PREFIX = "m.";

    private final String name;
    private final FSDirectory directory;
    private final IndexWriter writer;
    private final SearcherManager searchers;
    private final Analyzer analyzer = new EnglishAnalyzer();

    public Collection(String name, Path dir) {
        this.name = name;
        try {
            Files.createDirectories(dir);
            this.directory = FSDirectory.open(dir);
            this.writer = new IndexWriter(directory, new IndexWriterConfig(analyzer)
                    .setOpenMode(IndexWriterConfig.OpenMode.CREATE_OR_APPEND));
            this.searchers = new SearcherManager(writer, null);
        } catch (IOException e) {
            throw new UncheckedIOException("collection " + name + " cannot be opened at " + dir, e);
        }
    }

    public String name() {
        return name;
    }

    /** An entry to store. group ties the chunks of one document together so they are replaced together. */
    public record Entry(String id, String group, String hash, String title, String text, float[] vector,
            byte[] blob, Map<String, String> metadata) {
    }

    /** A search result; score is cosine for vector search and the fused score for hybrid search. */
    public record Hit(String id, float score, String title, String text, Map<String, String> metadata) {
    }

    /** Content hash stored for the group, or null: lets ingest skip unchanged records without embedding. */
    public String storedHash(String group) {
        return withSearcher(s -> {
            TopDocs top = s.search(new TermQuery(new Term(GROUP, group)), 1);
            return top.scoreDocs.length == 0 ? null : s.storedFields().document(top.scoreDocs[0].doc).get(HASH);
        });
    }

    /** Replaces every entry of each group present in entries, then commits. */
    public void upsert(List<Entry> entries) {
        try {
            for (String group : entries.stream().map(Entry::group).distinct().toList()) {
                writer.deleteDocuments(new Term(GROUP, group));
            }
            for (Entry e : entries) {
                writer.addDocument(toDocument(e));
            }
            writer.commit();
            searchers.maybeRefreshBlocking();
        } catch (IOException e) {
            throw new UncheckedIOException("collection " + name + " upsert failed", e);
        }
    }

    private static Document toDocument(Entry e) {
        Document d = new Document();
        d.add(new StringField(ID, e.id(), Field.Store.YES));
        d.add(new StringField(GROUP, e.group(), Field.Store.YES));
        d.add(new StoredField(HASH, e.hash()));
        d.add(new TextField(TITLE, e.title() == null ? "" : e.title(), Field.Store.YES));
        d.add(new TextField(TEXT, e.text(), Field.Store.YES));
        d.add(new KnnFloatVectorField(VECTOR, e.vector(), VectorSimilarityFunction.DOT_PRODUCT));
        if (e.blob() != null) {
            d.add(new StoredField(BLOB, e.blob()));
        }
        e.metadata().forEach((k, v) -> d.add(new StoredField(META_PREFIX + k, v)));
        return d;
    }

    public long count() {
        return withSearcher(s -> (long) s.getIndexReader().numDocs());
    }

    /** Nearest entries by vector (HNSW); score is the cosine similarity. */
    public List<Hit> nearest(float[] vector, int k) {
        return nearest(vector, k, k);
    }

    /**
     * The k nearest of an HNSW search that explores {@code candidates} (≥ k) entries: more candidates,
     * better recall; only the k returned are read from disk.
     */
    public List<Hit> nearest(float[] vector, int k, int candidates) {
        return withSearcher(s -> {
            if (s.getIndexReader().numDocs() == 0) {
                return List.of();
            }
            TopDocs top = s.search(new KnnFloatVectorQuery(VECTOR, vector, Math.max(k, candidates)), Math.max(k, candidates));
            List<Hit> hits = new ArrayList<>();
            for (ScoreDoc sd : top.scoreDocs) {
                if (hits.size() == k) {
                    break;
                }
                // Lucene scores DOT_PRODUCT as (1 + cos) / 2
                hits.add(toHit(s, sd.doc, 2 * sd.score - 1));
            }
            return hits;
        });
    }

    /** Merges the index into one segment (after a bulk load): one HNSW graph to search instead of many. */
    public void merge() {
        try {
            writer.forceMerge(1);
            writer.commit();
            searchers.maybeRefreshBlocking();
        } catch (IOException e) {
            throw new UncheckedIOException("collection " + name + " merge failed", e);
        }
    }

    /** BM25 over title and text. */
    public List<Hit> keyword(String query, int k) {
        Query q = keywordQuery(query);
        if (q == null) {
            return List.of();
        }
        return withSearcher(s -> {
            List<Hit> hits = new ArrayList<>();
            for (ScoreDoc sd : s.search(q, k).scoreDocs) {
                hits.add(toHit(s, sd.doc, sd.score));
            }
            return hits;
        });
    }

    /**
     * Dense and BM25 results fused by weighted reciprocal rank fusion (k = 60): robust to the two score
     * scales. Ranks are taken per document group (a document's best chunk), so a long document whose
     * chunks crowd one list does not outvote the other list.
     */
    public List<Hit> hybrid(float[] vector, String query, int k, int candidates, double keywordWeight) {
        Map<String, Hit> best = new LinkedHashMap<>();
        Map<String, Double> fused = new HashMap<>();
        List<List<Hit>> lists = List.of(nearest(vector, candidates), keyword(query, candidates));
        double[] weights = {1.0, keywordWeight};
        for (int l = 0; l < lists.size(); l++) {
            Map<String, Integer> groupRank = new HashMap<>();
            for (Hit h : lists.get(l)) {
                String group = h.metadata().getOrDefault("document_id", h.id());
                if (groupRank.containsKey(group)) {
                    continue;
                }
                int rank = groupRank.size();
                groupRank.put(group, rank);
                best.putIfAbsent(group, h);
                fused.merge(group, weights[l] / (60 + rank + 1), Double::sum);
            }
        }
        return fused.entrySet().stream()
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                .limit(k)
                .map(e -> {
                    Hit h = best.get(e.getKey());
                    return new Hit(h.id(), e.getValue().floatValue(), h.title(), h.text(), h.metadata());
                })
                .toList();
    }

    /** Every live entry, without its vector (to re-embed a repository with a new encoder). */
    public void forEach(java.util.function.Consumer<Entry> action) {
        withSearcher(s -> {
            for (var leaf : s.getIndexReader().leaves()) {
                var live = leaf.reader().getLiveDocs();
                var fields = leaf.reader().storedFields();
                for (int doc = 0; doc < leaf.reader().maxDoc(); doc++) {
                    if (live != null && !live.get(doc)) {
                        continue;
                    }
                    Document d = fields.document(doc);
                    Hit h = toHit(d, 0);
                    var blob = d.getBinaryValue(BLOB);
                    action.accept(new Entry(h.id(), d.get(GROUP), d.get(HASH), h.title(), h.text(), null,
                            blob == null ? null : java.util.Arrays.copyOfRange(blob.bytes, blob.offset, blob.offset + blob.length),
                            h.metadata()));
                }
            }
            return null;
        });
    }

    private Query keywordQuery(String text) {
        BooleanQuery.Builder b = new BooleanQuery.Builder();
        int clauses = 0;
        try (TokenStream ts = analyzer.tokenStream(TEXT, text)) {
            CharTermAttribute term = ts.addAttribute(CharTermAttribute.class);
            ts.reset();
            while (ts.incrementToken() && clauses < 256) {
                String t = term.toString();
                b.add(new TermQuery(new Term(TEXT, t)), BooleanClause.Occur.SHOULD);
                b.add(new TermQuery(new Term(TITLE, t)), BooleanClause.Occur.SHOULD);
                clauses += 2;
            }
            ts.end();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return clauses == 0 ? null : b.build();
    }

    private static Hit toHit(IndexSearcher s, int doc, float score) throws IOException {
        return toHit(s.storedFields().document(doc), score);
    }

    private static Hit toHit(Document d, float score) {
        Map<String, String> meta = new LinkedHashMap<>();
        for (IndexableField f : d.getFields()) {
            if (f.name().startsWith(META_PREFIX)) {
                meta.put(f.name().substring(META_PREFIX.length()), f.stringValue());
            }
        }
        return new Hit(d.get(ID), score, d.get(TITLE), d.get(TEXT), meta);
    }

    private interface SearchFn<T> {
        T apply(IndexSearcher s) throws IOException;
    }

    private <T> T withSearcher(SearchFn<T> fn) {
        try {
            IndexSearcher s = searchers.acquire();
            try {
                return fn.apply(s);
            } finally {
                searchers.release(s);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("collection " + name + " search failed", e);
        }
    }

    public boolean isOpen() {
        return writer.isOpen();
    }

    @Override
    public void close() {
        try {
            searchers.close();
            writer.close();
            directory.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

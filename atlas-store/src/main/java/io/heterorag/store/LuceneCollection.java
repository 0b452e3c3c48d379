package io.heterorag.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
 * The embedded backend: a Lucene index on disk with an HNSW vector field (dot product over unit
 * vectors = cosine), a BM25 text field and the filter fields as exact-match terms.
 */
public final class LuceneCollection implements VectorCollection {

    static final String ID = "id";
    static final String GROUP = "group";
    static final String HASH = "hash";
    static final String TITLE = "title";
    static final String TEXT = "text";
    static final String VECTOR = "vector";
    static final String BLOB = "blob";
    static final String META_PREFIX = "m.";

    private final String name;
    private final Path dir;
    private final FSDirectory directory;
    private final IndexWriter writer;
    private final SearcherManager searchers;

    public LuceneCollection(String name, Path dir) {
        this.name = name;
        this.dir = dir;
        try {
            Files.createDirectories(dir);
            this.directory = FSDirectory.open(dir);
            this.writer = new IndexWriter(directory, new IndexWriterConfig(Bm25Terms.ANALYZER)
                    .setOpenMode(IndexWriterConfig.OpenMode.CREATE_OR_APPEND));
            this.searchers = new SearcherManager(writer, null);
        } catch (IOException e) {
            throw new UncheckedIOException("collection " + name + " cannot be opened at " + dir, e);
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String storedHash(String group) {
        return withSearcher(s -> {
            TopDocs top = s.search(new TermQuery(new Term(GROUP, group)), 1);
            return top.scoreDocs.length == 0 ? null : s.storedFields().document(top.scoreDocs[0].doc).get(HASH);
        });
    }

    @Override
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
        e.metadata().forEach((k, v) -> d.add(FILTER_FIELDS.contains(k) ? new StringField(META_PREFIX + k, v, Field.Store.YES)
                : new StoredField(META_PREFIX + k, v)));
        return d;
    }

    @Override
    public long count() {
        return withSearcher(s -> (long) s.getIndexReader().numDocs());
    }

    /** HNSW search (score = cosine); only the k returned are read from disk. */
    @Override
    public List<Hit> nearest(float[] vector, int k, int candidates, Map<String, String> filter) {
        Query f = filter(filter);
        return withSearcher(s -> {
            if (s.getIndexReader().numDocs() == 0) {
                return List.of();
            }
            TopDocs top = s.search(new KnnFloatVectorQuery(VECTOR, vector, Math.max(k, candidates), f), Math.max(k, candidates));
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
    @Override
    public void optimize() {
        try {
            writer.forceMerge(1);
            writer.commit();
            searchers.maybeRefreshBlocking();
        } catch (IOException e) {
            throw new UncheckedIOException("collection " + name + " merge failed", e);
        }
    }

    @Override
    public List<Hit> keyword(String query, int k, Map<String, String> filter) {
        Query terms = keywordQuery(query);
        if (terms == null) {
            return List.of();
        }
        Query f = filter(filter);
        Query q = f == null ? terms : new BooleanQuery.Builder().add(terms, BooleanClause.Occur.MUST)
                .add(f, BooleanClause.Occur.FILTER).build();
        return withSearcher(s -> {
            List<Hit> hits = new ArrayList<>();
            for (ScoreDoc sd : s.search(q, k).scoreDocs) {
                hits.add(toHit(s, sd.doc, sd.score));
            }
            return hits;
        });
    }

    @Override
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

    private static Query filter(Map<String, String> filter) {
        if (filter.isEmpty()) {
            return null;
        }
        BooleanQuery.Builder b = new BooleanQuery.Builder();
        filter.forEach((k, v) -> {
            if (!FILTER_FIELDS.contains(k)) {
                throw new IllegalArgumentException("cannot filter on " + k + " (filter fields: " + FILTER_FIELDS + ")");
            }
            b.add(new TermQuery(new Term(META_PREFIX + k, v)), BooleanClause.Occur.FILTER);
        });
        return b.build();
    }

    private static Query keywordQuery(String text) {
        BooleanQuery.Builder b = new BooleanQuery.Builder();
        int clauses = 0;
        for (String t : Bm25Terms.of(text)) {
            if (clauses == 256) {
                break;
            }
            b.add(new TermQuery(new Term(TEXT, t)), BooleanClause.Occur.SHOULD);
            b.add(new TermQuery(new Term(TITLE, t)), BooleanClause.Occur.SHOULD);
            clauses += 2;
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

    @Override
    public boolean isOpen() {
        return writer.isOpen();
    }

    @Override
    public void drop() {
        close();
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("collection " + name + " cannot be deleted", e);
        }
    }

    @Override
    public void close() {
        if (!writer.isOpen()) {
            return;
        }
        try {
            searchers.close();
            writer.close();
            directory.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

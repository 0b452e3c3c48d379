package io.heterorag.store;

import static io.qdrant.client.ConditionFactory.hasId;
import static io.qdrant.client.ConditionFactory.matchKeyword;
import static io.qdrant.client.ConditionFactory.matchKeywords;
import static io.qdrant.client.ValueFactory.value;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Consumer;

import io.grpc.StatusRuntimeException;
import io.qdrant.client.PointIdFactory;
import io.qdrant.client.QueryFactory;
import io.qdrant.client.VectorFactory;
import io.qdrant.client.VectorsFactory;
import io.qdrant.client.WithPayloadSelectorFactory;
import io.qdrant.client.grpc.Collections.CollectionExistsRequest;
import io.qdrant.client.grpc.Collections.CreateCollection;
import io.qdrant.client.grpc.Collections.DeleteCollection;
import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.HnswConfigDiff;
import io.qdrant.client.grpc.Collections.Modifier;
import io.qdrant.client.grpc.Collections.QuantizationConfig;
import io.qdrant.client.grpc.Collections.QuantizationType;
import io.qdrant.client.grpc.Collections.ScalarQuantization;
import io.qdrant.client.grpc.Collections.SparseVectorConfig;
import io.qdrant.client.grpc.Collections.SparseVectorParams;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.qdrant.client.grpc.Collections.VectorParamsMap;
import io.qdrant.client.grpc.Collections.VectorsConfig;
import io.qdrant.client.grpc.JsonWithInt.Struct;
import io.qdrant.client.grpc.JsonWithInt.Value;
import io.qdrant.client.grpc.Points.CountPoints;
import io.qdrant.client.grpc.Points.CreateFieldIndexCollection;
import io.qdrant.client.grpc.Points.DeletePoints;
import io.qdrant.client.grpc.Points.FieldType;
import io.qdrant.client.grpc.Points.Filter;
import io.qdrant.client.grpc.Points.PointId;
import io.qdrant.client.grpc.Points.PointStruct;
import io.qdrant.client.grpc.Points.PointsSelector;
import io.qdrant.client.grpc.Points.Query;
import io.qdrant.client.grpc.Points.QueryPoints;
import io.qdrant.client.grpc.Points.RetrievedPoint;
import io.qdrant.client.grpc.Points.ScoredPoint;
import io.qdrant.client.grpc.Points.ScrollPoints;
import io.qdrant.client.grpc.Points.ScrollResponse;
import io.qdrant.client.grpc.Points.SearchParams;
import io.qdrant.client.grpc.Points.UpsertPoints;

/**
 * The Qdrant backend: one Qdrant collection with a cosine "dense" vector (HNSW, optional int8
 * quantization) and a "bm25" sparse vector whose IDF Qdrant applies (modifier Idf), so keyword search
 * runs on the server like the embedded BM25. Point ids are UUIDs derived from entry ids; the entry's
 * fields are payload, metadata under "meta" with keyword payload indexes on the filter fields.
 * Created on the first upsert, when the vector size is known.
 */
public final class QdrantCollection implements VectorCollection {

    static final String DENSE = "dense";
    static final String SPARSE = "bm25";
    // BM25 document-side saturation; the corpus-wide average length is not known to a streaming
    // ingest, so a typical chunk length stands in for it
    static final float K1 = 1.2f;
    static final float B = 0.75f;
    static final float AVG_TERMS = 120f;

    private final QdrantStore store;
    private final String name;
    private final String collection;
    // null until asked (the server may be unreachable when the service starts); only "exists" is kept:
    // another replica may create the collection after this one found it missing
    private volatile Boolean exists;
    private volatile boolean closed;

    QdrantCollection(QdrantStore store, String name) {
        this.store = store;
        this.name = name;
        this.collection = store.settings.prefix() + name.replaceAll("[^A-Za-z0-9_-]", "_");
    }

    private boolean exists() {
        Boolean e = exists;
        if (e == null || !e) {
            e = call(() -> store.collections().collectionExists(
                    CollectionExistsRequest.newBuilder().setCollectionName(collection).build()).getResult().getExists());
            exists = e ? Boolean.TRUE : null;
        }
        return e;
    }

    @Override
    public String name() {
        return name;
    }

    /** The Qdrant collection name. */
    public String collectionName() {
        return collection;
    }

    @Override
    public String storedHash(String group) {
        if (!exists()) {
            return null;
        }
        ScrollResponse r = call(() -> store.points().scroll(ScrollPoints.newBuilder().setCollectionName(collection)
                .setFilter(Filter.newBuilder().addMust(matchKeyword("group", group))).setLimit(1)
                .setWithPayload(WithPayloadSelectorFactory.include(List.of("hash"))).build()));
        return r.getResultCount() == 0 ? null : r.getResult(0).getPayloadOrThrow("hash").getStringValue();
    }

    /** One filtered scroll for the whole batch instead of a round trip per record. */
    @Override
    public Map<String, String> storedHashes(List<String> groups) {
        Map<String, String> out = new java.util.HashMap<>();
        if (groups.isEmpty() || !exists()) {
            return out;
        }
        PointId offset = null;
        do {
            ScrollPoints.Builder b = ScrollPoints.newBuilder().setCollectionName(collection).setLimit(store.settings.batch())
                    .setFilter(Filter.newBuilder().addMust(matchKeywords("group", groups)))
                    .setWithPayload(WithPayloadSelectorFactory.include(List.of("group", "hash")));
            if (offset != null) {
                b.setOffset(offset);
            }
            ScrollResponse r = call(() -> store.points().scroll(b.build()));
            for (RetrievedPoint p : r.getResultList()) {
                out.put(p.getPayloadOrThrow("group").getStringValue(), p.getPayloadOrThrow("hash").getStringValue());
            }
            offset = r.hasNextPageOffset() ? r.getNextPageOffset() : null;
        } while (offset != null);
        return out;
    }

    @Override
    public void upsert(List<Entry> entries) {
        if (entries.isEmpty()) {
            return;
        }
        ensureCreated(entries.get(0).vector().length);
        List<PointId> ids = new ArrayList<>();
        List<PointStruct> points = new ArrayList<>();
        for (Entry e : entries) {
            PointId id = pointId(e.id());
            ids.add(id);
            points.add(PointStruct.newBuilder().setId(id).putAllPayload(payload(e))
                    .setVectors(VectorsFactory.namedVectors(Map.of(DENSE, VectorFactory.vector(e.vector()), SPARSE,
                            sparse(documentTerms(title(e) + " " + e.text())))))
                    .build());
        }
        for (int i = 0; i < points.size(); i += store.settings.batch()) {
            List<PointStruct> batch = points.subList(i, Math.min(points.size(), i + store.settings.batch()));
            call(() -> store.points().upsert(UpsertPoints.newBuilder().setCollectionName(collection).setWait(true)
                    .addAllPoints(batch).build()));
        }
        // then drop the groups' old entries not replaced (a document that lost chunks): never a moment without the group
        List<String> groups = entries.stream().map(Entry::group).distinct().toList();
        call(() -> store.points().delete(DeletePoints.newBuilder().setCollectionName(collection).setWait(true)
                .setPoints(PointsSelector.newBuilder().setFilter(Filter.newBuilder().addMust(matchKeywords("group", groups))
                        .addMustNot(hasId(ids))))
                .build()));
    }

    /** An empty repository gets its collection too, so that an alias can point at it. */
    @Override
    public void create(int dimension) {
        ensureCreated(dimension);
    }

    private void ensureCreated(int dim) {
        if (exists()) {
            return;
        }
        synchronized (this) {
            if (exists()) {
                return;
            }
            QdrantStore.Settings s = store.settings;
            CreateCollection.Builder create = CreateCollection.newBuilder().setCollectionName(collection)
                    .setVectorsConfig(VectorsConfig.newBuilder().setParamsMap(VectorParamsMap.newBuilder()
                            .putMap(DENSE, VectorParams.newBuilder().setSize(dim).setDistance(Distance.Cosine)
                                    // with int8 in RAM, the originals (for rescoring) can stay on disk
                                    .setOnDisk(s.int8()).build())))
                    .setSparseVectorsConfig(SparseVectorConfig.newBuilder()
                            .putMap(SPARSE, SparseVectorParams.newBuilder().setModifier(Modifier.Idf).build()))
                    .setHnswConfig(HnswConfigDiff.newBuilder().setM(s.hnswM()).setEfConstruct(s.hnswEfConstruct()))
                    .setShardNumber(s.shards()).setReplicationFactor(s.replicas())
                    // payload (texts, images) on disk: RAM is for vectors and the HNSW graph
                    .setOnDiskPayload(true);
            if (s.int8()) {
                create.setQuantizationConfig(QuantizationConfig.newBuilder().setScalar(
                        ScalarQuantization.newBuilder().setType(QuantizationType.Int8).setQuantile(0.99f).setAlwaysRam(true)));
            }
            try {
                call(() -> store.collections().create(create.build()));
            } catch (IllegalStateException e) {
                if (e.getCause() instanceof StatusRuntimeException sre && sre.getStatus().getCode() == io.grpc.Status.Code.ALREADY_EXISTS) {
                    exists = true; // another replica created it first (and indexes its payload)
                    return;
                }
                throw e;
            }
            List<String> indexed = new ArrayList<>(List.of("group"));
            FILTER_FIELDS.forEach(f -> indexed.add("meta." + f));
            for (String field : indexed) {
                call(() -> store.points().createFieldIndex(CreateFieldIndexCollection.newBuilder().setCollectionName(collection)
                        .setWait(true).setFieldName(field).setFieldType(FieldType.FieldTypeKeyword).build()));
            }
            exists = true;
        }
    }

    @Override
    public long count() {
        if (!exists()) {
            return 0;
        }
        return call(() -> store.points().count(CountPoints.newBuilder().setCollectionName(collection).setExact(true).build())
                .getResult().getCount());
    }

    @Override
    public List<Hit> nearest(float[] vector, int k, int candidates, Map<String, String> filter) {
        return query(QueryFactory.nearest(vector), DENSE, k, filter,
                SearchParams.newBuilder().setHnswEf(Math.max(k, candidates)).build());
    }

    @Override
    public List<Hit> keyword(String query, int k, Map<String, String> filter) {
        Map<Integer, Float> counts = new TreeMap<>();
        for (String t : Bm25Terms.of(query)) {
            counts.merge(termIndex(t), 1f, Float::sum);
        }
        if (counts.isEmpty()) {
            return List.of();
        }
        return query(QueryFactory.nearest(new ArrayList<>(counts.values()), new ArrayList<>(counts.keySet())), SPARSE, k,
                filter, SearchParams.getDefaultInstance());
    }

    private List<Hit> query(Query q, String using, int k, Map<String, String> filter, SearchParams params) {
        if (!exists()) {
            return List.of();
        }
        QueryPoints.Builder b = QueryPoints.newBuilder().setCollectionName(collection).setQuery(q).setUsing(using)
                .setLimit(k).setParams(params).setWithPayload(WithPayloadSelectorFactory.exclude(List.of("blob")));
        if (!filter.isEmpty()) {
            Filter.Builder f = Filter.newBuilder();
            filter.forEach((key, v) -> {
                if (!FILTER_FIELDS.contains(key)) {
                    throw new IllegalArgumentException("cannot filter on " + key + " (filter fields: " + FILTER_FIELDS + ")");
                }
                f.addMust(matchKeyword("meta." + key, v));
            });
            b.setFilter(f);
        }
        List<Hit> hits = new ArrayList<>();
        for (ScoredPoint p : call(() -> store.points().query(b.build())).getResultList()) {
            Entry e = entry(p.getPayloadMap());
            hits.add(new Hit(e.id(), p.getScore(), e.title(), e.text(), e.metadata()));
        }
        return hits;
    }

    @Override
    public void forEach(Consumer<Entry> action) {
        if (!exists()) {
            return;
        }
        PointId offset = null;
        do {
            ScrollPoints.Builder b = ScrollPoints.newBuilder().setCollectionName(collection).setLimit(store.settings.batch())
                    .setWithPayload(WithPayloadSelectorFactory.enable(true));
            if (offset != null) {
                b.setOffset(offset);
            }
            ScrollResponse r = call(() -> store.points().scroll(b.build()));
            for (RetrievedPoint p : r.getResultList()) {
                action.accept(entry(p.getPayloadMap()));
            }
            offset = r.hasNextPageOffset() ? r.getNextPageOffset() : null;
        } while (offset != null);
    }

    /** Qdrant's optimizers merge segments and build the index in the background. */
    @Override
    public void optimize() {
    }

    @Override
    public boolean isOpen() {
        return !closed && store.reachable();
    }

    @Override
    public void drop() {
        if (exists()) {
            call(() -> store.collections().delete(DeleteCollection.newBuilder().setCollectionName(collection).build()));
        }
        exists = false;
        closed = true;
    }

    /** The connection belongs to the {@link QdrantStore}; closing a collection only stops its use. */
    @Override
    public void close() {
        closed = true;
    }

    static PointId pointId(String id) {
        return PointIdFactory.id(UUID.nameUUIDFromBytes(id.getBytes(StandardCharsets.UTF_8)));
    }

    /** Term index of the sparse vector: a 31-bit hash of the stemmed term (collisions only merge two rare terms). */
    static int termIndex(String term) {
        return term.hashCode() & 0x7fffffff;
    }

    /** BM25's document side (saturated term frequency with length normalisation); Qdrant multiplies by IDF. */
    static Map<Integer, Float> documentTerms(String text) {
        List<String> terms = Bm25Terms.of(text);
        Map<Integer, Integer> tf = new TreeMap<>();
        terms.forEach(t -> tf.merge(termIndex(t), 1, Integer::sum));
        Map<Integer, Float> out = new TreeMap<>();
        float norm = K1 * (1 - B + B * terms.size() / AVG_TERMS);
        tf.forEach((t, n) -> out.put(t, n * (K1 + 1) / (n + norm)));
        return out;
    }

    private static io.qdrant.client.grpc.Points.Vector sparse(Map<Integer, Float> terms) {
        return VectorFactory.vector(new ArrayList<>(terms.values()), new ArrayList<>(terms.keySet()));
    }

    private static Map<String, Value> payload(Entry e) {
        Map<String, Value> p = new LinkedHashMap<>();
        p.put("id", value(e.id()));
        p.put("group", value(e.group()));
        p.put("hash", value(e.hash()));
        p.put("title", value(title(e)));
        p.put("text", value(e.text()));
        if (e.blob() != null) {
            p.put("blob", value(Base64.getEncoder().encodeToString(e.blob())));
        }
        Map<String, Value> meta = new LinkedHashMap<>();
        e.metadata().forEach((k, v) -> meta.put(k, value(v)));
        p.put("meta", value(meta));
        return p;
    }

    /** An entry without a title has an empty one (not the word "null" in its terms). */
    private static String title(Entry e) {
        return e.title() == null ? "" : e.title();
    }

    private static Entry entry(Map<String, Value> p) {
        Map<String, String> meta = new LinkedHashMap<>();
        Struct s = p.getOrDefault("meta", Value.getDefaultInstance()).getStructValue();
        s.getFieldsMap().forEach((k, v) -> meta.put(k, v.getStringValue()));
        Value blob = p.get("blob");
        return new Entry(str(p, "id"), str(p, "group"), str(p, "hash"), str(p, "title"), str(p, "text"), null,
                blob == null ? null : Base64.getDecoder().decode(blob.getStringValue()), meta);
    }

    private static String str(Map<String, Value> p, String key) {
        Value v = p.get(key);
        return v == null ? null : v.getStringValue();
    }

    private <T> T call(java.util.function.Supplier<T> rpc) {
        try {
            return rpc.get();
        } catch (StatusRuntimeException e) {
            throw new IllegalStateException("qdrant collection " + collection + ": " + e.getStatus().getCode() + " "
                    + e.getStatus().getDescription(), e);
        }
    }
}

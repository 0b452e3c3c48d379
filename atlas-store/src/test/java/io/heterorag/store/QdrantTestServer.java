package io.heterorag.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.qdrant.client.grpc.Collections;
import io.qdrant.client.grpc.CollectionsGrpc;
import io.qdrant.client.grpc.JsonWithInt.Value;
import io.qdrant.client.grpc.Points;
import io.qdrant.client.grpc.PointsGrpc;
import io.qdrant.client.grpc.QdrantGrpc;
import io.qdrant.client.grpc.QdrantOuterClass;

/**
 * A Qdrant gRPC endpoint for tests, built from Qdrant's own service definitions (the stubs in
 * io.qdrant:client), implementing the calls {@link QdrantCollection} makes with Qdrant's semantics:
 * named dense (cosine) and sparse (IDF modifier) vectors, payload filters (keyword match, has_id,
 * nested), scroll pages, exact count, collection aliases (create / delete in one atomic request, list;
 * deleting a collection deletes its aliases). Search is exact; nothing is persisted; any other call or
 * option answers UNIMPLEMENTED, so the backend cannot silently depend on one this does not model.
 * It is not Qdrant: its HNSW, quantization, sharding and storage are not exercised here.
 */
public final class QdrantTestServer implements AutoCloseable {

    static final class Coll {
        final Collections.CreateCollection config;
        final Set<String> indexed = ConcurrentHashMap.newKeySet();
        final TreeMap<String, Points.PointStruct> points = new TreeMap<>();

        Coll(Collections.CreateCollection config) {
            this.config = config;
        }
    }

    final Map<String, Coll> collections = new ConcurrentHashMap<>();
    /** Collection aliases, alias → collection; changed under its own lock, one request at a time. */
    final Map<String, String> aliases = new TreeMap<>();
    /** The api-key header of every call received, by full method name ("" when a call carried none). */
    final Map<String, List<String>> apiKeys = new ConcurrentHashMap<>();
    private final Server server;

    public QdrantTestServer() {
        try {
            server = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
                    .addService(new CollectionsService()).addService(new PointsService()).addService(new HealthService())
                    .intercept(new ApiKeyRecorder())
                    .build().start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public java.util.Set<String> collectionNames() {
        return java.util.Set.copyOf(collections.keySet());
    }

    /** Records the api-key header (how Qdrant authenticates) of each call; authorises nothing. */
    private final class ApiKeyRecorder implements ServerInterceptor {
        @Override
        public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
            String key = headers.get(API_KEY);
            apiKeys.computeIfAbsent(call.getMethodDescriptor().getFullMethodName(), m -> new java.util.concurrent.CopyOnWriteArrayList<>())
                    .add(key == null ? "" : key);
            return next.startCall(call, headers);
        }
    }

    private static final Metadata.Key<String> API_KEY = Metadata.Key.of("api-key", Metadata.ASCII_STRING_MARSHALLER);

    public int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        server.shutdownNow();
    }

    private static <T> void answer(StreamObserver<T> out, Supplier<T> body) {
        T result;
        try {
            result = body.get();
        } catch (StatusRuntimeException e) {
            out.onError(e);
            return;
        }
        out.onNext(result);
        out.onCompleted();
    }

    private static StatusRuntimeException unimplemented(String what) {
        return Status.UNIMPLEMENTED.withDescription("test endpoint does not model " + what).asRuntimeException();
    }

    private Coll coll(String name) {
        Coll c = collections.get(name);
        if (c == null) {
            throw Status.NOT_FOUND.withDescription("Collection `" + name + "` doesn't exist!").asRuntimeException();
        }
        return c;
    }

    private final class HealthService extends QdrantGrpc.QdrantImplBase {
        @Override
        public void healthCheck(QdrantOuterClass.HealthCheckRequest req, StreamObserver<QdrantOuterClass.HealthCheckReply> out) {
            answer(out, () -> QdrantOuterClass.HealthCheckReply.newBuilder().setTitle("qdrant test endpoint")
                    .setVersion("1.15.0-test").build());
        }
    }

    private final class CollectionsService extends CollectionsGrpc.CollectionsImplBase {
        @Override
        public void create(Collections.CreateCollection req, StreamObserver<Collections.CollectionOperationResponse> out) {
            answer(out, () -> {
                if (!req.getVectorsConfig().hasParamsMap()) {
                    throw unimplemented("unnamed vectors");
                }
                if (collections.putIfAbsent(req.getCollectionName(), new Coll(req)) != null) {
                    throw Status.ALREADY_EXISTS.withDescription("Collection `" + req.getCollectionName() + "` already exists!")
                            .asRuntimeException();
                }
                return Collections.CollectionOperationResponse.newBuilder().setResult(true).build();
            });
        }

        @Override
        public void delete(Collections.DeleteCollection req, StreamObserver<Collections.CollectionOperationResponse> out) {
            answer(out, () -> {
                synchronized (aliases) {
                    aliases.values().removeIf(req.getCollectionName()::equals);
                    return Collections.CollectionOperationResponse.newBuilder()
                            .setResult(collections.remove(req.getCollectionName()) != null).build();
                }
            });
        }

        /**
         * Qdrant's UpdateCollectionAliases: the actions of one request apply together or not at all;
         * creating an existing alias, deleting a missing one, an alias on a missing collection or an
         * alias named like a collection are errors.
         */
        @Override
        public void updateAliases(Collections.ChangeAliases req, StreamObserver<Collections.CollectionOperationResponse> out) {
            answer(out, () -> {
                synchronized (aliases) {
                    Map<String, String> next = new TreeMap<>(aliases);
                    for (Collections.AliasOperations op : req.getActionsList()) {
                        switch (op.getActionCase()) {
                            case CREATE_ALIAS -> {
                                String alias = op.getCreateAlias().getAliasName();
                                String target = op.getCreateAlias().getCollectionName();
                                if (!collections.containsKey(target)) {
                                    throw Status.NOT_FOUND.withDescription("Collection `" + target + "` doesn't exist!").asRuntimeException();
                                }
                                if (next.containsKey(alias) || collections.containsKey(alias)) {
                                    throw Status.ALREADY_EXISTS.withDescription("Alias `" + alias + "` already exists!").asRuntimeException();
                                }
                                next.put(alias, target);
                            }
                            case DELETE_ALIAS -> {
                                if (next.remove(op.getDeleteAlias().getAliasName()) == null) {
                                    throw Status.NOT_FOUND.withDescription("Alias `" + op.getDeleteAlias().getAliasName()
                                            + "` doesn't exist!").asRuntimeException();
                                }
                            }
                            default -> throw unimplemented("alias action " + op.getActionCase());
                        }
                    }
                    aliases.clear();
                    aliases.putAll(next);
                }
                return Collections.CollectionOperationResponse.newBuilder().setResult(true).build();
            });
        }

        @Override
        public void listAliases(Collections.ListAliasesRequest req, StreamObserver<Collections.ListAliasesResponse> out) {
            answer(out, () -> {
                Collections.ListAliasesResponse.Builder res = Collections.ListAliasesResponse.newBuilder();
                synchronized (aliases) {
                    aliases.forEach((a, c) -> res.addAliases(Collections.AliasDescription.newBuilder().setAliasName(a).setCollectionName(c)));
                }
                return res.build();
            });
        }

        @Override
        public void collectionExists(Collections.CollectionExistsRequest req, StreamObserver<Collections.CollectionExistsResponse> out) {
            answer(out, () -> Collections.CollectionExistsResponse.newBuilder().setResult(Collections.CollectionExists.newBuilder()
                    .setExists(collections.containsKey(req.getCollectionName()))).build());
        }
    }

    private final class PointsService extends PointsGrpc.PointsImplBase {
        @Override
        public void createFieldIndex(Points.CreateFieldIndexCollection req, StreamObserver<Points.PointsOperationResponse> out) {
            answer(out, () -> {
                if (req.getFieldType() != Points.FieldType.FieldTypeKeyword) {
                    throw unimplemented("field type " + req.getFieldType());
                }
                coll(req.getCollectionName()).indexed.add(req.getFieldName());
                return done();
            });
        }

        @Override
        public void upsert(Points.UpsertPoints req, StreamObserver<Points.PointsOperationResponse> out) {
            answer(out, () -> {
                Coll c = coll(req.getCollectionName());
                Map<String, Collections.VectorParams> dense = c.config.getVectorsConfig().getParamsMap().getMapMap();
                for (Points.PointStruct p : req.getPointsList()) {
                    for (var v : p.getVectors().getVectors().getVectorsMap().entrySet()) {
                        Collections.VectorParams params = dense.get(v.getKey());
                        if (params == null && !c.config.getSparseVectorsConfig().containsMap(v.getKey())) {
                            throw Status.INVALID_ARGUMENT.withDescription("Wrong input: Not existing vector name error: " + v.getKey())
                                    .asRuntimeException();
                        }
                        if (params != null && denseOf(v.getValue()).length != params.getSize()) {
                            throw Status.INVALID_ARGUMENT.withDescription("Wrong input: Vector dimension error: expected dim: "
                                    + params.getSize() + ", got " + denseOf(v.getValue()).length).asRuntimeException();
                        }
                    }
                }
                synchronized (c) {
                    req.getPointsList().forEach(p -> c.points.put(key(p.getId()), p));
                }
                return done();
            });
        }

        @Override
        public void delete(Points.DeletePoints req, StreamObserver<Points.PointsOperationResponse> out) {
            answer(out, () -> {
                Coll c = coll(req.getCollectionName());
                synchronized (c) {
                    if (req.getPoints().hasPoints()) {
                        req.getPoints().getPoints().getIdsList().forEach(id -> c.points.remove(key(id)));
                    } else {
                        c.points.values().removeIf(p -> matches(req.getPoints().getFilter(), p));
                    }
                }
                return done();
            });
        }

        @Override
        public void count(Points.CountPoints req, StreamObserver<Points.CountResponse> out) {
            answer(out, () -> {
                Coll c = coll(req.getCollectionName());
                synchronized (c) {
                    long n = c.points.values().stream().filter(p -> matches(req.getFilter(), p)).count();
                    return Points.CountResponse.newBuilder().setResult(Points.CountResult.newBuilder().setCount(n)).build();
                }
            });
        }

        @Override
        public void scroll(Points.ScrollPoints req, StreamObserver<Points.ScrollResponse> out) {
            answer(out, () -> {
                Coll c = coll(req.getCollectionName());
                int limit = req.hasLimit() ? req.getLimit() : 10;
                Points.ScrollResponse.Builder res = Points.ScrollResponse.newBuilder();
                synchronized (c) {
                    var from = req.hasOffset() ? c.points.tailMap(key(req.getOffset()), true) : c.points;
                    for (Points.PointStruct p : from.values()) {
                        if (!matches(req.getFilter(), p)) {
                            continue;
                        }
                        if (res.getResultCount() == limit) {
                            res.setNextPageOffset(p.getId());
                            break;
                        }
                        res.addResult(Points.RetrievedPoint.newBuilder().setId(p.getId())
                                .putAllPayload(select(req.getWithPayload(), p.getPayloadMap())));
                    }
                }
                return res.build();
            });
        }

        @Override
        public void query(Points.QueryPoints req, StreamObserver<Points.QueryResponse> out) {
            answer(out, () -> {
                if (req.getPrefetchCount() > 0 || !req.getQuery().hasNearest()) {
                    throw unimplemented("prefetch or a query other than nearest");
                }
                Coll c = coll(req.getCollectionName());
                Points.VectorInput in = req.getQuery().getNearest();
                boolean sparse = c.config.getSparseVectorsConfig().containsMap(req.getUsing());
                if (!sparse && !c.config.getVectorsConfig().getParamsMap().containsMap(req.getUsing())) {
                    throw Status.INVALID_ARGUMENT.withDescription("Wrong input: Not existing vector name error: " + req.getUsing())
                            .asRuntimeException();
                }
                List<Points.ScoredPoint> scored = new ArrayList<>();
                synchronized (c) {
                    Map<Integer, Double> idf = sparse && c.config.getSparseVectorsConfig().getMapMap().get(req.getUsing())
                            .getModifier() == Collections.Modifier.Idf ? idf(c, req.getUsing()) : null;
                    for (Points.PointStruct p : c.points.values()) {
                        Points.Vector v = p.getVectors().getVectors().getVectorsMap().get(req.getUsing());
                        if (v == null || !matches(req.getFilter(), p)) {
                            continue;
                        }
                        float score = sparse ? sparseScore(in.getSparse(), v, idf) : cosine(in.getDense().getDataList(), denseOf(v));
                        if (sparse && score <= 0) {
                            continue; // Qdrant returns only points sharing a term with a sparse query
                        }
                        scored.add(Points.ScoredPoint.newBuilder().setId(p.getId()).setScore(score)
                                .putAllPayload(select(req.getWithPayload(), p.getPayloadMap())).build());
                    }
                }
                scored.sort((a, b) -> Float.compare(b.getScore(), a.getScore()));
                int limit = (int) (req.hasLimit() ? req.getLimit() : 10);
                return Points.QueryResponse.newBuilder().addAllResult(scored.subList(0, Math.min(limit, scored.size()))).build();
            });
        }
    }

    private static Points.PointsOperationResponse done() {
        return Points.PointsOperationResponse.newBuilder().setResult(Points.UpdateResult.newBuilder()
                .setStatus(Points.UpdateStatus.Completed)).build();
    }

    private static String key(Points.PointId id) {
        return id.hasUuid() ? id.getUuid() : Long.toString(id.getNum());
    }

    private static float[] denseOf(Points.Vector v) {
        List<Float> data = v.hasDense() ? v.getDense().getDataList() : v.getDataList();
        float[] out = new float[data.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = data.get(i);
        }
        return out;
    }

    private static Map<Integer, Float> sparseOf(Points.Vector v) {
        List<Float> values = v.hasSparse() ? v.getSparse().getValuesList() : v.getDataList();
        List<Integer> indices = v.hasSparse() ? v.getSparse().getIndicesList() : v.getIndices().getDataList();
        Map<Integer, Float> out = new HashMap<>();
        for (int i = 0; i < values.size(); i++) {
            out.put(indices.get(i), values.get(i));
        }
        return out;
    }

    private static float cosine(List<Float> q, float[] d) {
        double dot = 0, nq = 0, nd = 0;
        for (int i = 0; i < d.length; i++) {
            dot += q.get(i) * d[i];
            nq += q.get(i) * q.get(i);
            nd += d[i] * d[i];
        }
        return (float) (dot / Math.sqrt(nq * nd));
    }

    /** Qdrant's IDF modifier: ln(1 + (N − n + 0.5) / (n + 0.5)) over the points having the sparse vector. */
    private static Map<Integer, Double> idf(Coll c, String using) {
        Map<Integer, Integer> df = new HashMap<>();
        int n = 0;
        for (Points.PointStruct p : c.points.values()) {
            Points.Vector v = p.getVectors().getVectors().getVectorsMap().get(using);
            if (v != null) {
                n++;
                sparseOf(v).keySet().forEach(t -> df.merge(t, 1, Integer::sum));
            }
        }
        Map<Integer, Double> out = new HashMap<>();
        int total = n;
        df.forEach((t, d) -> out.put(t, Math.log(1 + (total - d + 0.5) / (d + 0.5))));
        return out;
    }

    private static float sparseScore(Points.SparseVector q, Points.Vector v, Map<Integer, Double> idf) {
        Map<Integer, Float> d = sparseOf(v);
        double s = 0;
        for (int i = 0; i < q.getIndicesCount(); i++) {
            Float dv = d.get(q.getIndices(i));
            if (dv != null) {
                s += q.getValues(i) * dv * (idf == null ? 1 : idf.get(q.getIndices(i)));
            }
        }
        return (float) s;
    }

    private static boolean matches(Points.Filter f, Points.PointStruct p) {
        for (Points.Condition c : f.getMustList()) {
            if (!holds(c, p)) {
                return false;
            }
        }
        for (Points.Condition c : f.getMustNotList()) {
            if (holds(c, p)) {
                return false;
            }
        }
        if (f.hasMinShould()) {
            throw unimplemented("min_should");
        }
        return f.getShouldCount() == 0 || f.getShouldList().stream().anyMatch(c -> holds(c, p));
    }

    private static boolean holds(Points.Condition c, Points.PointStruct p) {
        switch (c.getConditionOneOfCase()) {
            case HAS_ID -> {
                Set<String> ids = new HashSet<>();
                c.getHasId().getHasIdList().forEach(id -> ids.add(key(id)));
                return ids.contains(key(p.getId()));
            }
            case FILTER -> {
                return matches(c.getFilter(), p);
            }
            case FIELD -> {
                Points.FieldCondition fc = c.getField();
                Value v = lookup(p.getPayloadMap(), fc.getKey());
                String s = v == null || !v.hasStringValue() ? null : v.getStringValue();
                return switch (fc.getMatch().getMatchValueCase()) {
                    case KEYWORD -> fc.getMatch().getKeyword().equals(s);
                    case KEYWORDS -> fc.getMatch().getKeywords().getStringsList().contains(s);
                    default -> throw unimplemented("match " + fc.getMatch().getMatchValueCase());
                };
            }
            default -> throw unimplemented("condition " + c.getConditionOneOfCase());
        }
    }

    /** A dotted key ("meta.source") into nested payload objects. */
    private static Value lookup(Map<String, Value> payload, String key) {
        String[] parts = key.split("\\.");
        Value v = payload.get(parts[0]);
        for (int i = 1; i < parts.length && v != null; i++) {
            v = v.hasStructValue() ? v.getStructValue().getFieldsMap().get(parts[i]) : null;
        }
        return v;
    }

    private static Map<String, Value> select(Points.WithPayloadSelector sel, Map<String, Value> payload) {
        Map<String, Value> out = new LinkedHashMap<>(payload);
        switch (sel.getSelectorOptionsCase()) {
            case ENABLE -> {
                if (!sel.getEnable()) {
                    out.clear();
                }
            }
            case INCLUDE -> out.keySet().retainAll(sel.getInclude().getFieldsList());
            case EXCLUDE -> sel.getExclude().getFieldsList().forEach(out::remove);
            default -> out.clear(); // Qdrant returns no payload unless asked
        }
        return out;
    }
}

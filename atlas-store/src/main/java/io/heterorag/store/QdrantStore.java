package io.heterorag.store;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.qdrant.client.ApiKeyCredentials;
import io.qdrant.client.grpc.Collections.AliasDescription;
import io.qdrant.client.grpc.Collections.AliasOperations;
import io.qdrant.client.grpc.Collections.ChangeAliases;
import io.qdrant.client.grpc.Collections.CollectionExistsRequest;
import io.qdrant.client.grpc.Collections.CreateAlias;
import io.qdrant.client.grpc.Collections.DeleteAlias;
import io.qdrant.client.grpc.Collections.ListAliasesRequest;
import io.grpc.StatusRuntimeException;
import io.qdrant.client.grpc.CollectionsGrpc;
import io.qdrant.client.grpc.PointsGrpc;
import io.qdrant.client.grpc.QdrantGrpc;
import io.qdrant.client.grpc.QdrantOuterClass.HealthCheckRequest;

/**
 * A connection to a Qdrant server (or cluster) over gRPC, with the collection settings applied when
 * this platform creates a collection. Collections are named {@code prefix + name}. Its aliases are
 * Qdrant collection aliases with the same prefix; a re-point is one UpdateCollectionAliases request
 * (delete + create), which Qdrant applies atomically.
 */
public final class QdrantStore implements CollectionAliases, AutoCloseable {

    /**
     * Collection settings. hnswM / hnswEfConstruct: graph degree and build beam; int8: scalar
     * quantization kept in RAM (4× less vector memory, rescored with the originals); shards /
     * replicas: distribution over the cluster; batch: points per upsert call; timeoutSeconds: per call.
     */
    public record Settings(String host, int port, boolean tls, String apiKey, String prefix, int hnswM, int hnswEfConstruct,
            boolean int8, int shards, int replicas, int batch, int timeoutSeconds) {

        public static Settings local(int port) {
            return new Settings("127.0.0.1", port, false, "", "heterorag_", 16, 100, true, 1, 1, 256, 30);
        }
    }

    final Settings settings;
    private final ManagedChannel channel;
    private final ApiKeyCredentials credentials;

    public QdrantStore(Settings settings) {
        this.settings = settings;
        this.channel = Grpc.newChannelBuilderForAddress(settings.host(), settings.port(),
                settings.tls() ? TlsChannelCredentials.create() : InsecureChannelCredentials.create())
                .maxInboundMessageSize(64 << 20).build();
        this.credentials = settings.apiKey().isBlank() ? null : new ApiKeyCredentials(settings.apiKey());
    }

    public QdrantCollection collection(String name) {
        return new QdrantCollection(this, name);
    }

    PointsGrpc.PointsBlockingStub points() {
        return PointsGrpc.newBlockingStub(channel).withCallCredentials(credentials)
                .withDeadlineAfter(settings.timeoutSeconds(), TimeUnit.SECONDS);
    }

    CollectionsGrpc.CollectionsBlockingStub collections() {
        return CollectionsGrpc.newBlockingStub(channel).withCallCredentials(credentials)
                .withDeadlineAfter(settings.timeoutSeconds(), TimeUnit.SECONDS);
    }

    @Override
    public Optional<String> target(String alias) {
        return Optional.ofNullable(all().get(CollectionAliases.checked(alias)));
    }

    @Override
    public void point(String alias, String collection) {
        ChangeAliases.Builder change = ChangeAliases.newBuilder();
        if (target(alias).isPresent()) {
            change.addActions(AliasOperations.newBuilder().setDeleteAlias(DeleteAlias.newBuilder()
                    .setAliasName(settings.prefix() + alias)));
        }
        change.addActions(AliasOperations.newBuilder().setCreateAlias(CreateAlias.newBuilder()
                .setAliasName(settings.prefix() + alias).setCollectionName(settings.prefix() + CollectionAliases.checked(collection))));
        aliasCall("point " + alias + " at " + collection, () -> collections().updateAliases(change.build()));
    }

    @Override
    public void remove(String alias) {
        if (target(alias).isPresent()) {
            aliasCall("remove " + alias, () -> collections().updateAliases(ChangeAliases.newBuilder().addActions(AliasOperations
                    .newBuilder().setDeleteAlias(DeleteAlias.newBuilder().setAliasName(settings.prefix() + alias))).build()));
        }
    }

    /** This platform's aliases (those with its prefix), without the prefix. */
    @Override
    public Map<String, String> all() {
        Map<String, String> out = new LinkedHashMap<>();
        for (AliasDescription a : aliasCall("list", () -> collections().listAliases(ListAliasesRequest.getDefaultInstance()))
                .getAliasesList()) {
            if (a.getAliasName().startsWith(settings.prefix()) && a.getCollectionName().startsWith(settings.prefix())) {
                out.put(a.getAliasName().substring(settings.prefix().length()), a.getCollectionName().substring(settings.prefix().length()));
            }
        }
        return out;
    }

    @Override
    public boolean exists(String collection) {
        return aliasCall("exists " + collection, () -> collections().collectionExists(CollectionExistsRequest.newBuilder()
                .setCollectionName(settings.prefix() + CollectionAliases.checked(collection)).build())).getResult().getExists();
    }

    private static <T> T aliasCall(String what, java.util.function.Supplier<T> rpc) {
        try {
            return rpc.get();
        } catch (StatusRuntimeException e) {
            throw new IllegalStateException("qdrant aliases, " + what + ": " + e.getStatus().getCode() + " "
                    + e.getStatus().getDescription(), e);
        }
    }

    /** The server's version, or an exception when it cannot be reached. */
    public String version() {
        return QdrantGrpc.newBlockingStub(channel).withCallCredentials(credentials).withDeadlineAfter(5, TimeUnit.SECONDS)
                .healthCheck(HealthCheckRequest.getDefaultInstance()).getVersion();
    }

    boolean reachable() {
        try {
            version();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public void close() {
        channel.shutdown();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

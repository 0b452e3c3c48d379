package io.heterorag.store;

import java.util.concurrent.TimeUnit;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.qdrant.client.ApiKeyCredentials;
import io.qdrant.client.grpc.CollectionsGrpc;
import io.qdrant.client.grpc.PointsGrpc;
import io.qdrant.client.grpc.QdrantGrpc;
import io.qdrant.client.grpc.QdrantOuterClass.HealthCheckRequest;

/**
 * A connection to a Qdrant server (or cluster) over gRPC, with the collection settings applied when
 * this platform creates a collection. Collections are named {@code prefix + name}.
 */
public final class QdrantStore implements AutoCloseable {

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

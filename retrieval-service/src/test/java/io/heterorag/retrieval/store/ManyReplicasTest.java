package io.heterorag.retrieval.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Constructor;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import jakarta.inject.Inject;

import com.google.protobuf.ByteString;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.heterorag.localkafka.LocalKafkaBroker;
import io.heterorag.model.bundle.ModelBundles;
import io.heterorag.model.image.BaselineImageBundle;
import io.heterorag.proto.v1.AtlasRecord;
import io.heterorag.proto.v1.Image;
import io.heterorag.proto.v1.IngestRequest;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.ModelAnnouncement;
import io.heterorag.proto.v1.RetrievalGrpc;
import io.heterorag.proto.v1.RetrieveReportsRequest;
import io.heterorag.proto.v1.RetrieveReportsResponse;
import io.heterorag.retrieval.TestData;
import io.heterorag.retrieval.config.RetrievalConfig;
import io.heterorag.retrieval.grpc.RetrievalGrpcService;
import io.heterorag.retrieval.ingest.AtlasIngestor;
import io.heterorag.retrieval.ingest.ModelAnnouncementConsumer;
import io.heterorag.retrieval.model.Models;
import io.heterorag.retrieval.search.CorpusSearch;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.smallrye.config.SmallRyeConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/**
 * Two retrieval-service replicas on one Qdrant-protocol endpoint (the Qdrant test endpoint): replica
 * A is this Quarkus application (its Kafka channels: the shared re-index group and its own follow
 * group); replica B is a second set of the serving classes in this JVM — its own data dir, collection
 * factory, models, repositories, ingestor and gRPC service on its own gRPC port, and its own Kafka
 * consumer group on heterorag.models feeding its announcement consumer's follow path. A new encoder is
 * announced while both answer RetrieveReports and B keeps ingesting: no request fails, one re-index
 * serves both, both end on the new encoder, nothing B ingested during the swap is lost, and the old
 * collection is dropped only once neither replica reads it. The announcement delivered again changes
 * nothing; a third replica started afterwards serves the new collection.
 */
@QuarkusTest
@TestProfile(ManyReplicasTest.TwoReplicasOnQdrant.class)
class ManyReplicasTest {

    public static class TwoReplicasOnQdrant implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(QdrantBackendTest.Endpoint.class));
        }

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("heterorag.retrieval.alias-poll-ms", "200");
        }
    }

    static final Modality M = Modality.PATHOLOGY;

    @GrpcClient("self")
    RetrievalGrpc.RetrievalBlockingStub replicaA;

    /** Replica B: the serving classes of retrieval-service, wired by hand, on the same store. */
    static final class Replica implements AutoCloseable {
        final CollectionFactory factory;
        final ReportRepositories reports;
        final VectorStore store;
        final ModelAnnouncementConsumer announcements;
        final Server server;
        final ManagedChannel channel;
        final RetrievalGrpc.RetrievalBlockingStub stub;
        final KafkaConsumer<String, byte[]> models;
        final Thread following;
        final AtomicBoolean stop = new AtomicBoolean();

        Replica(String id, int qdrantPort, String bootstrap) throws Exception {
            Path data = Path.of("target/test-data/replica-" + id);
            factory = new CollectionFactory(data, "qdrant", "127.0.0.1", qdrantPort, false, " ", "heterorag_", 16, 100, true, 1, 1,
                    256, 30);
            Map<Class<?>, Object> beans = new HashMap<>();
            beans.put(MeterRegistry.class, new SimpleMeterRegistry());
            beans.put(Path.class, data);
            Models m = wire(Models.class, beans);
            reports = new ReportRepositories(factory, m, id, 200);
            store = new VectorStore(factory);
            beans.putAll(Map.of(Models.class, m, ReportRepositories.class, reports, VectorStore.class, store));
            beans.put(TermGraph.class, new TermGraph(store, m));
            beans.put(CorpusSearch.class, wire(CorpusSearch.class, beans));
            beans.put(AtlasIngestor.class, wire(AtlasIngestor.class, beans));
            RetrievalGrpcService service = wire(RetrievalGrpcService.class, beans);
            server = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create()).addService(service)
                    .maxInboundMessageSize(32 << 20).build().start();
            channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.getPort(), InsecureChannelCredentials.create()).build();
            stub = RetrievalGrpc.newBlockingStub(channel);
            announcements = new ModelAnnouncementConsumer(reports);
            Properties p = new Properties();
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ConsumerConfig.GROUP_ID_CONFIG, "retrieval-service-models-" + id); // a group of its own, as each replica has
            p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            models = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
            models.subscribe(List.of("heterorag.models"));
            following = new Thread(() -> {
                while (!stop.get()) {
                    models.poll(Duration.ofMillis(100)).forEach(r -> announcements.onFollow(r.value()));
                }
                models.close();
            }, "replica-b-models");
            following.start();
        }

        @Override
        public void close() throws Exception {
            stop.set(true);
            following.join(10_000);
            channel.shutdownNow();
            server.shutdownNow();
            reports.close();
            store.close();
            factory.close();
        }
    }

    /**
     * Calls the CDI (@Inject) constructor as Quarkus would: beans by type, and the running application's
     * RetrievalConfig with B's own data dir (so B is configured as A, whatever keys the mapping gains).
     */
    static <T> T wire(Class<T> type, Map<Class<?>, Object> beans) throws Exception {
        Constructor<?> c = Arrays.stream(type.getConstructors()).filter(k -> k.isAnnotationPresent(Inject.class)).findFirst()
                .orElseThrow();
        Object[] args = new Object[c.getParameterCount()];
        for (int i = 0; i < args.length; i++) {
            Class<?> p = c.getParameterTypes()[i];
            args[i] = p == RetrievalConfig.class ? withDataDir((Path) beans.get(Path.class))
                    : Objects.requireNonNull(beans.get(p), "no bean of " + p);
        }
        return type.cast(c.newInstance(args));
    }

    /** A's configuration, but heterorag.retrieval.data-dir is B's. */
    static RetrievalConfig withDataDir(Path dir) {
        RetrievalConfig a = ConfigProvider.getConfig().unwrap(SmallRyeConfig.class).getConfigMapping(RetrievalConfig.class);
        ClassLoader loader = RetrievalConfig.class.getClassLoader();
        RetrievalConfig.Retrieval r = (RetrievalConfig.Retrieval) Proxy.newProxyInstance(loader, new Class<?>[] {RetrievalConfig.Retrieval.class},
                (proxy, m, args) -> m.getName().equals("dataDir") ? dir : m.invoke(a.retrieval(), args));
        return (RetrievalConfig) Proxy.newProxyInstance(loader, new Class<?>[] {RetrievalConfig.class},
                (proxy, m, args) -> m.getName().equals("retrieval") ? r : m.invoke(a, args));
    }

    @Test
    void twoReplicasSwapToOneReindexUnderLoadWithoutAFailedRequest() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        List<String> images;
        try (var files = Files.list(TestData.MEDPIX.resolve("images"))) {
            List<String> all = files.map(f -> f.getFileName().toString().replace(".jpg", "")).sorted().toList();
            // far apart in the listing: not two views of one case, which could be near-duplicates
            images = java.util.stream.IntStream.range(0, 64).mapToObj(i -> all.get(i * all.size() / 64)).toList();
        }
        IngestRequest.Builder first = IngestRequest.newBuilder();
        for (int i = 0; i < 24; i++) {
            first.addRecords(pathology(TestData.report(run + "-" + i, images.get(i), "report " + i)));
        }
        int stored = replicaA.ingest(first.build()).getStored();
        assertTrue(stored >= 20, "stored " + stored);
        String query = images.get(3);
        String expected = run + "-3";

        var qdrant = QdrantBackendTest.Endpoint.server;
        String bootstrap = ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class);
        try (Replica b = new Replica("replica-b-" + run, qdrant.port(), bootstrap)) {
            String oldId = retrieve(b.stub, query).getImageEncoder();
            assertEquals(expected, retrieve(b.stub, query).getReports(0).getId(), "B reads what A ingested");
            assertEquals(oldId, retrieve(replicaA, query).getImageEncoder());

            Path bundle = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "bundle");
            BaselineImageBundle.materialize(bundle);
            var manifest = ModelBundles.read(bundle).toBuilder().setVersion("replicas-" + run).build();
            ModelBundles.write(bundle, manifest);
            String newId = manifest.getName() + "@" + manifest.getVersion();
            String newCollection = ReportRepositories.collectionFor(M, newId);

            AtomicBoolean stop = new AtomicBoolean();
            ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
            Map<String, ConcurrentLinkedQueue<String>> encoders = Map.of("A", new ConcurrentLinkedQueue<>(), "B",
                    new ConcurrentLinkedQueue<>());
            Map<String, AtomicInteger> served = Map.of("A", new AtomicInteger(), "B", new AtomicInteger());
            ExecutorService pool = Executors.newFixedThreadPool(5);
            for (int t = 0; t < 4; t++) {
                String replica = t % 2 == 0 ? "A" : "B";
                RetrievalGrpc.RetrievalBlockingStub stub = replica.equals("A") ? replicaA : b.stub;
                pool.submit(() -> {
                    while (!stop.get()) {
                        try {
                            RetrieveReportsResponse r = retrieve(stub, query);
                            if (!r.getReports(0).getId().equals(expected)) {
                                failures.add(replica + ": top hit " + r.getReports(0).getId());
                            }
                            encoders.get(replica).add(r.getImageEncoder());
                            served.get(replica).incrementAndGet();
                        } catch (Throwable e) {
                            failures.add(replica + ": " + e);
                        }
                    }
                });
            }
            // B keeps ingesting new reports through the swap: none may be lost
            ConcurrentLinkedQueue<Integer> storedByB = new ConcurrentLinkedQueue<>();
            pool.submit(() -> {
                for (int i = 24; i < images.size() && !stop.get(); i++) {
                    try {
                        if (b.stub.ingest(IngestRequest.newBuilder()
                                .addRecords(pathology(TestData.report(run + "-" + i, images.get(i), "report " + i))).build()).getStored() == 1) {
                            storedByB.add(i);
                        }
                        Thread.sleep(50);
                    } catch (Throwable e) {
                        failures.add("B ingest: " + e);
                    }
                }
            });
            Thread.sleep(500);
            try (KafkaProducer<String, byte[]> p = LocalKafkaBroker.producer(bootstrap)) {
                p.send(new ProducerRecord<>("heterorag.models", manifest.getName(), ModelAnnouncement.newBuilder()
                        .setName(manifest.getName()).setVersion(manifest.getVersion()).setKind("image_encoder").setModality(M)
                        .setBundleUri(bundle.toString()).build().toByteArray())).get();
            }
            waitFor(() -> encoders.get("A").contains(newId) && encoders.get("B").contains(newId), 90,
                    "both replicas serve the announced encoder");
            Thread.sleep(500);
            stop.set(true);
            pool.shutdown();
            assertTrue(pool.awaitTermination(60, TimeUnit.SECONDS));

            assertEquals(List.of(), new ArrayList<>(failures), "no request failed during the swap");
            for (String replica : List.of("A", "B")) {
                assertTrue(served.get(replica).get() > 10, replica + " kept serving: " + served.get(replica));
                assertEquals(oldId, encoders.get(replica).peek(), replica + " served the old encoder first");
            }
            assertNotEquals(oldId, newId);
            assertEquals(newId, retrieve(replicaA, query).getImageEncoder());
            assertEquals(newId, retrieve(b.stub, query).getImageEncoder());

            // one pointer in the store, one re-indexed collection, read by both
            Map<String, String> aliases = b.factory.aliases().all();
            assertEquals(newCollection, aliases.get(ReportRepositories.servingAlias(M)), aliases.toString());
            assertEquals(newCollection, b.reports.servingCollection(M));
            assertEquals(newCollection, aliases.get("pin--replica-b-" + run + "--" + newCollection), aliases.toString());
            assertEquals(3, aliases.values().stream().filter(newCollection::equals).count(), "serving, A's and B's pins: " + aliases);
            // the old collection goes once neither reads it
            waitFor(() -> !qdrant.collectionNames().contains("heterorag_" + ReportRepositories.baseName(M)), 10,
                    "the old collection is dropped after both moved");
            assertFalse(aliases.containsValue(ReportRepositories.baseName(M)), aliases.toString());

            // every report: the 24 from before and every one B stored during the swap, whichever collection it went to
            assertTrue(storedByB.size() > 3, "B ingested during the swap: " + storedByB);
            assertEquals(stored + storedByB.size(), b.reports.counts().get(ReportRepositories.baseName(M)));
            assertEquals(stored + storedByB.size(), replicaCountA());
            for (int i : storedByB) {
                RetrieveReportsResponse r = retrieve(replicaA, images.get(i));
                assertEquals(run + "-" + i, r.getReports(0).getId(), "a report B ingested is found by A: " + i);
            }

            // the announcement delivered again (a rebalance): nothing to do, nothing changes
            assertEquals(newId, b.reports.reindex(M, bundle));
            assertEquals(aliases, b.factory.aliases().all());

            // a replica started after the swap learns the bundle from the topic and serves the new collection
            try (Replica c = new Replica("replica-c-" + run, qdrant.port(), bootstrap)) {
                waitFor(() -> newCollection.equals(c.reports.servingCollection(M)), 60, "a late replica serves the new collection");
                RetrieveReportsResponse r = retrieve(c.stub, query);
                assertEquals(newId, r.getImageEncoder());
                assertEquals(expected, r.getReports(0).getId());
            }
            assertEquals(aliases, b.factory.aliases().all(), "the late replica stopped and took its pins with it");
        }
    }

    long replicaCountA() {
        return replicaA.getStats(io.heterorag.proto.v1.GetStatsRequest.getDefaultInstance()).getEntriesOrThrow(ReportRepositories.baseName(M));
    }

    static RetrieveReportsResponse retrieve(RetrievalGrpc.RetrievalBlockingStub stub, String image) {
        return stub.retrieveReports(RetrieveReportsRequest.newBuilder().setModality(M).setK(2).setFixedK(true)
                .setImage(Image.newBuilder().setData(ByteString.copyFrom(TestData.image(image)))).build());
    }

    static AtlasRecord pathology(AtlasRecord r) {
        return r.toBuilder().setReport(r.getReport().toBuilder().setModality(M)).build();
    }

    static void waitFor(Supplier<Boolean> condition, int seconds, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.get()) {
            assertTrue(System.nanoTime() < end, what + " (not within " + seconds + " s)");
            Thread.sleep(100);
        }
    }
}

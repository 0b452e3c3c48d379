package io.heterorag.retrieval.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import com.google.protobuf.ByteString;
import com.google.protobuf.util.JsonFormat;
import io.heterorag.model.image.BaselineImageBundle;
import io.heterorag.model.image.ImageEncoder;
import io.heterorag.proto.v1.Image;
import io.heterorag.proto.v1.IngestRequest;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.ModelAnnouncement;
import io.heterorag.proto.v1.RetrievalGrpc;
import io.heterorag.proto.v1.RetrieveReportsRequest;
import io.heterorag.proto.v1.RetrieveReportsResponse;
import io.heterorag.retrieval.TestData;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import io.heterorag.localkafka.LocalKafkaBroker;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/**
 * A new image encoder announced on heterorag.models is swapped in while requests keep coming: none
 * fails, the repository is re-embedded (an ingested image still finds itself), and the choice is
 * recorded on disk for the next start.
 */
@QuarkusTest
class ReportRepositoriesSwapTest {

    @GrpcClient("self")
    RetrievalGrpc.RetrievalBlockingStub retrieval;

    @Inject
    ReportRepositories reports;

    @Test
    void anAnnouncedEncoderIsSwappedInUnderLoadWithoutAFailedRequest() throws Exception {
        String run = UUID.randomUUID().toString();
        retrieval.ingest(IngestRequest.newBuilder()
                .addRecords(TestData.report(run + "-a", "MPX1020_synpic17477", "a"))
                .addRecords(TestData.report(run + "-b", "MPX1022_synpic17356", "b")).build());
        long before = reports.counts().get("reports-ophthalmology");
        // the ophthalmology repository gets the same images, so the swap has work to do there
        retrieval.ingest(IngestRequest.newBuilder()
                .addRecords(ophthalmology(TestData.report(run + "-oa", "MPX1020_synpic17477", "a")))
                .addRecords(ophthalmology(TestData.report(run + "-ob", "MPX1022_synpic17356", "b"))).build());

        // a second version of the baseline bundle: another encoder id, same graph
        Path bundle = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "bundle");
        BaselineImageBundle.materialize(bundle);
        var manifest = io.heterorag.model.bundle.ModelBundles.read(bundle).toBuilder().setVersion("swap-" + run).build();
        io.heterorag.model.bundle.ModelBundles.write(bundle, manifest);
        String newId = manifest.getName() + "@" + manifest.getVersion();

        Image query = Image.newBuilder().setData(ByteString.copyFrom(TestData.image("MPX1022_synpic17356"))).build();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger ok = new AtomicInteger();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<String> encoders = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        for (int t = 0; t < 4; t++) {
            pool.submit(() -> {
                while (!stop.get()) {
                    try {
                        RetrieveReportsResponse r = retrieval.retrieveReports(RetrieveReportsRequest.newBuilder()
                                .setModality(Modality.OPHTHALMOLOGY).setImage(query).setK(2).build());
                        assertEquals(run + "-ob", r.getReports(0).getId());
                        encoders.add(r.getImageEncoder());
                        ok.incrementAndGet();
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }
            });
        }
        Thread.sleep(300);
        try (KafkaProducer<String, byte[]> p = producer()) {
            p.send(new ProducerRecord<>("heterorag.models", manifest.getName(), ModelAnnouncement.newBuilder()
                    .setName(manifest.getName()).setVersion(manifest.getVersion()).setKind("image_encoder")
                    .setModality(Modality.OPHTHALMOLOGY).setBundleUri(bundle.toString()).build().toByteArray())).get();
        }
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!encoders.contains(newId)) {
            assertTrue(System.nanoTime() < end, "the announced encoder was not swapped in within 60 s");
            Thread.sleep(100);
        }
        Thread.sleep(300);
        stop.set(true);
        pool.shutdown();
        assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));

        List<Throwable> failed = new ArrayList<>(failures);
        assertEquals(List.of(), failed, "no request failed during the swap");
        assertTrue(ok.get() > 10, "requests kept being served: " + ok.get());
        assertNotEquals(newId, encoders.peek(), "the old encoder served first");
        assertEquals(before + 2, reports.counts().get("reports-ophthalmology"), "every entry was re-embedded");
        assertNotEquals(newId, retrieval.retrieveReports(RetrieveReportsRequest.newBuilder().setModality(Modality.RADIOLOGY)
                .setImage(query).build()).getImageEncoder(), "other modalities keep their encoder");

        Properties pointer = new Properties();
        Path dataDir = Path.of(ConfigProvider.getConfig().getValue("heterorag.retrieval.data-dir", String.class));
        try (var r = Files.newBufferedReader(dataDir.resolve("collections/reports-ophthalmology.serving"))) {
            pointer.load(r);
        }
        assertEquals(bundle.toAbsolutePath().toString(), pointer.getProperty("bundle"));
        // the embedded store's serving alias names the re-indexed collection
        assertEquals(java.util.Optional.of(ReportRepositories.collectionFor(Modality.OPHTHALMOLOGY, newId)),
                new io.heterorag.store.LuceneAliases(dataDir.resolve("collections")).target(ReportRepositories.servingAlias(Modality.OPHTHALMOLOGY)));
    }

    static io.heterorag.proto.v1.AtlasRecord ophthalmology(io.heterorag.proto.v1.AtlasRecord r) {
        return r.toBuilder().setReport(r.getReport().toBuilder().setModality(Modality.OPHTHALMOLOGY)).build();
    }

    static KafkaProducer<String, byte[]> producer() {
        return LocalKafkaBroker.producer(ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class));
    }
}

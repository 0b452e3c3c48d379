package io.heterorag.querygen.generator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import javax.imageio.ImageIO;

import jakarta.inject.Inject;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.heterorag.localkafka.LocalKafkaBroker;
import io.heterorag.model.generation.TaggedQueries;
import io.heterorag.model.generation.TaggedQueryGrammar;
import io.heterorag.model.generation.TinyMqgBundles;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.CorpusQuery;
import io.heterorag.proto.v1.GenerateQueriesRequest;
import io.heterorag.proto.v1.GenerateQueriesResponse;
import io.heterorag.proto.v1.Image;
import io.heterorag.proto.v1.ModelAnnouncement;
import io.heterorag.proto.v1.QueryGenGrpc;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/**
 * querygen-service serving a generator bundle (a tiny fixed-weight one, untrained: its queries are
 * arbitrary words, but they parse because of the grammar) over gRPC, and swapping to one announced
 * on heterorag.models with kind "mqg".
 */
@QuarkusTest
@TestProfile(MqgServingTest.TinyBundle.class)
class MqgServingTest {

    public static class TinyBundle implements QuarkusTestProfile {
        static final Path DIR = Path.of(System.getProperty("java.io.tmpdir")).resolve("mqg-serving-" + ProcessHandle.current().pid());

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("heterorag.models.mqg-bundle", TinyMqgBundles.llava(DIR.resolve("seed-1"), 1).toString(),
                    "heterorag.models.execution-provider", "cpu", "heterorag.querygen.max-new-tokens", "48");
        }
    }

    @GrpcClient("self")
    QueryGenGrpc.QueryGenBlockingStub querygen;

    @Inject
    ServedQueryWriter served;

    @Test
    void servesTheBundlesParsableQueriesWithAndWithoutAnImageThenFollowsAnAnnouncement() throws Exception {
        GenerateQueriesRequest.Builder req = GenerateQueriesRequest.newBuilder().setQuestion("What is the mass in the left lung?")
                .addReportTexts("Large mass in the left upper lobe with pleural effusion.");
        for (GenerateQueriesRequest r : List.of(req.build(), req.clone().setImage(png()).build())) {
            GenerateQueriesResponse res = querygen.generateQueries(r);
            assertEquals("tiny-mqg@seed-1", res.getGenerator());
            assertEquals("", res.getFallbackReason());
            assertFalse(res.getQueriesList().isEmpty());
            assertTrue(TaggedQueryGrammar.DEFAULT.accepts(res.getTagged()), res.getTagged());
            assertEquals(res.getQueriesCount(), TaggedQueries.parse(res.getTagged()).size());
            for (Corpus c : List.of(Corpus.RESEARCH, Corpus.WIKI, Corpus.BOOK, Corpus.GUIDELINE, Corpus.GRAPH)) {
                boolean queried = res.getQueriesList().stream().anyMatch(q -> q.getCorpus() == c);
                assertTrue(queried != res.getSkippedCorporaList().contains(c), c + " is either queried or skipped: " + res);
            }
        }
        StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                () -> querygen.generateQueries(req.clone().setImage(Image.newBuilder().setData(ByteString.copyFromUtf8("not an image"))
                        .setMediaType("image/png")).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());

        Path next = TinyMqgBundles.qwen2vl(TinyBundle.DIR.resolve("seed-2"), 2);
        try (KafkaProducer<String, byte[]> p = LocalKafkaBroker.producer(
                ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class))) {
            p.send(new ProducerRecord<>("heterorag.models", "gen", ModelAnnouncement.newBuilder().setKind("generator").setName("gen")
                    .setBundleUri(TinyBundle.DIR.resolve("missing").toString()).build().toByteArray())).get();
            p.send(new ProducerRecord<>("heterorag.models", "tiny-mqg", ModelAnnouncement.newBuilder().setKind("mqg").setName("tiny-mqg")
                    .setVersion("seed-2").setBundleUri(next.toString()).build().toByteArray())).get();
        }
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!served.id().equals("tiny-mqg@seed-2")) {
            assertTrue(System.nanoTime() < end, "the announced query generator was not served (serving " + served.id() + ")");
            Thread.sleep(100);
        }
        GenerateQueriesResponse res = querygen.generateQueries(req.clone().setImage(png()).addCorpora(Corpus.BOOK).addCorpora(Corpus.WIKI).build());
        assertEquals("tiny-mqg@seed-2", res.getGenerator());
        assertTrue(res.getQueriesList().stream().map(CorpusQuery::getCorpus).allMatch(c -> c == Corpus.BOOK || c == Corpus.WIKI), res.toString());
    }

    static Image png() {
        BufferedImage img = new BufferedImage(48, 48, BufferedImage.TYPE_INT_RGB);
        img.setRGB(10, 10, 0xffffff);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Image.newBuilder().setData(ByteString.copyFrom(out.toByteArray())).setMediaType("image/png").build();
    }
}

package io.heterorag.tuning.grpc;

import static io.heterorag.tuning.grpc.TuningGrpcServiceTest.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import jakarta.inject.Inject;

import io.grpc.Status;
import io.heterorag.proto.v1.EvidenceRef;
import io.heterorag.proto.v1.Feedback;
import io.heterorag.proto.v1.ListPreferencePairsRequest;
import io.heterorag.proto.v1.ListPreferencePairsResponse;
import io.heterorag.proto.v1.ModelVersions;
import io.heterorag.proto.v1.PairSide;
import io.heterorag.proto.v1.PreferencePair;
import io.heterorag.proto.v1.Task;
import io.heterorag.proto.v1.Trace;
import io.heterorag.proto.v1.TuningGrpc;
import io.heterorag.tuning.preference.PairKinds;
import io.heterorag.tuning.store.TuningStore;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/** ListPreferencePairs filters by kind and pages through every pair once; feedback with a correction becomes a pair. */
@QuarkusTest
class PreferencePairsGrpcTest {

    @GrpcClient("self")
    TuningGrpc.TuningBlockingStub tuning;

    @Inject
    TuningStore store;

    @Test
    void listingFiltersByKindAndPagesThroughEveryPairOnce() {
        String run = UUID.randomUUID().toString();
        long before = tuning.listPreferencePairs(ListPreferencePairsRequest.newBuilder().setKind(PairKinds.KNOWLEDGE_USE).build()).getTotal();
        Set<String> use = new HashSet<>();
        for (int i = 0; i < 7; i++) {
            // several pairs share a creation time: paging must still visit each once
            String kind = i % 3 == 0 ? PairKinds.CROSS_MODALITY : PairKinds.KNOWLEDGE_USE;
            PreferencePair p = pair(run + "-" + i, kind, 1_000 + i / 2);
            store.putPair(p);
            if (kind.equals(PairKinds.KNOWLEDGE_USE)) {
                use.add(p.getPairId());
            }
        }
        store.putPair(pair(run + "-1", PairKinds.KNOWLEDGE_USE, 1_000)); // re-built: replaced, not added

        List<PreferencePair> seen = new ArrayList<>();
        String token = "";
        int pages = 0;
        do {
            ListPreferencePairsResponse r = tuning.listPreferencePairs(ListPreferencePairsRequest.newBuilder()
                    .setKind(PairKinds.KNOWLEDGE_USE).setPageSize(2).setPageToken(token).build());
            assertTrue(r.getPairsCount() <= 2);
            r.getPairsList().forEach(p -> assertEquals(PairKinds.KNOWLEDGE_USE, p.getKind()));
            seen.addAll(r.getPairsList());
            token = r.getNextPageToken();
            pages++;
            assertEquals(before + use.size(), r.getTotal());
        } while (!token.isEmpty());
        List<String> ours = seen.stream().map(PreferencePair::getPairId).filter(id -> id.startsWith(run)).toList();
        assertEquals(use, new HashSet<>(ours));
        assertEquals(use.size(), ours.size(), "each pair once");
        assertEquals((before + use.size() + 1) / 2, pages, "full pages of 2, no empty last page");
        for (int i = 1; i < seen.size(); i++) {
            assertTrue(seen.get(i - 1).getCreatedAtMs() >= seen.get(i).getCreatedAtMs(), "newest first");
        }
        assertStatus(Status.Code.INVALID_ARGUMENT, "page_token", () -> tuning.listPreferencePairs(
                ListPreferencePairsRequest.newBuilder().setPageToken("!!").build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "page_size", () -> tuning.listPreferencePairs(
                ListPreferencePairsRequest.newBuilder().setPageSize(-1).build()));
    }

    @Test
    void feedbackWithACorrectionOnAStoredTraceIsAPair() throws Exception {
        String traceId = UUID.randomUUID().toString();
        Trace trace = Trace.newBuilder().setTraceId(traceId).setTask(Task.OPEN_VQA).setQuestion("which lobe?").setAnswer("left lower lobe")
                .setImageSha256("ab".repeat(32)).addReports(EvidenceRef.newBuilder().setId("medpix:r1"))
                .addKnowledge(EvidenceRef.newBuilder().setId("doc#3")).setModels(ModelVersions.newBuilder().setAnswerer("vlm@1"))
                .setCreatedAtMs(System.currentTimeMillis()).build();
        store.addTrace(trace);
        tuning.submitFeedback(Feedback.newBuilder().setFeedbackId(UUID.randomUUID().toString()).setTraceId(traceId).setRating(1).build());
        tuning.submitFeedback(Feedback.newBuilder().setFeedbackId(UUID.randomUUID().toString()).setTraceId(traceId).setRating(-1)
                .setCorrectAnswer("right upper lobe").build());

        List<PreferencePair> pairs = correctionsOf(traceId);
        assertEquals(1, pairs.size(), "a rating without a correction makes no pair");
        PreferencePair p = pairs.get(0);
        assertEquals("right upper lobe", p.getChosen());
        assertEquals("left lower lobe", p.getRejected());
        PairSide inputs = PairSide.newBuilder().setImageSha256("ab".repeat(32)).addReportIds("medpix:r1").addDocumentIds("doc#3").build();
        assertEquals(inputs.toBuilder().setAnswer("right upper lobe").build(), p.getChosenSide());
        assertEquals(inputs.toBuilder().setAnswer("left lower lobe").build(), p.getRejectedSide(), "the same inputs on both sides");
        assertEquals("vlm@1", p.getGenerator());

        // the same through heterorag.feedback
        Feedback viaKafka = Feedback.newBuilder().setFeedbackId(UUID.randomUUID().toString()).setTraceId(traceId).setRating(-1)
                .setCorrectAnswer("right middle lobe").setCreatedAtMs(System.currentTimeMillis()).build();
        try (KafkaProducer<String, byte[]> producer = TuningGrpcServiceTest.producer()) {
            producer.send(new ProducerRecord<>("heterorag.feedback", viaKafka.getFeedbackId(), viaKafka.toByteArray())).get();
        }
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (correctionsOf(traceId).size() < 2) {
            assertTrue(System.nanoTime() < end, "no pair from Kafka feedback within 60 s");
            Thread.sleep(200);
        }
    }

    private List<PreferencePair> correctionsOf(String traceId) {
        List<PreferencePair> out = new ArrayList<>();
        String token = "";
        do {
            ListPreferencePairsResponse r = tuning.listPreferencePairs(ListPreferencePairsRequest.newBuilder().setKind(PairKinds.CORRECTION)
                    .setPageSize(1000).setPageToken(token).build());
            r.getPairsList().stream().filter(p -> p.getTraceId().equals(traceId)).forEach(out::add);
            token = r.getNextPageToken();
        } while (!token.isEmpty());
        return out;
    }

    private static PreferencePair pair(String id, String kind, long createdAt) {
        return PreferencePair.newBuilder().setPairId(id).setKind(kind).setCreatedAtMs(createdAt).setChosen("yes").setRejected("no")
                .setChosenSide(PairSide.newBuilder().setAnswer("yes")).setRejectedSide(PairSide.newBuilder().setAnswer("no")).build();
    }
}

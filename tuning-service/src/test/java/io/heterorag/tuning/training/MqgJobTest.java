package io.heterorag.tuning.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.stub.StreamObserver;
import io.heterorag.model.bundle.ExecutionProviders;
import io.heterorag.model.bundle.ModelBundles;
import io.heterorag.model.generation.DecodingOptions;
import io.heterorag.model.generation.GenerationInput;
import io.heterorag.model.generation.OnnxGenerator;
import io.heterorag.model.generation.QueryTerms;
import io.heterorag.model.generation.TaggedQueries;
import io.heterorag.model.generation.TaggedQueryGrammar;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.KnowledgeHit;
import io.heterorag.proto.v1.RetrievalGrpc;
import io.heterorag.proto.v1.SearchCorpusRequest;
import io.heterorag.proto.v1.SearchCorpusResponse;
import io.heterorag.proto.v1.StartJobRequest;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Job kind mqg on a tiny slice of MedPix train: a small generator trained on tagged targets, exported,
 * and its queries (written under the grammar, with the image) scored against a retrieval service. The
 * retrieval here is a word-overlap index of the slice's topics behind a real gRPC server (a fake of the
 * one dependency, so the job's own code is what is tested). A @QuarkusTest only to share the class loader.
 */
@QuarkusTest
public class MqgJobTest {

    @TempDir
    Path dir;

    /** The first n MedPix train cases with an image: question as `eval diagnosis` asks it, target the book query of its first terms. */
    static List<String> slice(int n, Map<String, Set<String>> index) throws Exception {
        ObjectMapper json = new ObjectMapper();
        Path medpix = ModClipJobTest.MEDPIX;
        List<String> lines = new ArrayList<>();
        for (String l : Files.readAllLines(medpix.resolve("data_train.jsonl"))) {
            JsonNode c = json.readTree(l);
            JsonNode images = c.path("TAC").isEmpty() ? c.path("MRI") : c.path("TAC");
            String history = c.path("Case").path("History").asText("");
            String topic = c.path("Topic").path("Title").asText("");
            List<String> terms = QueryTerms.questionTerms(history);
            if (lines.size() == n || images.isEmpty() || terms.size() < 2 || topic.isBlank()) {
                continue;
            }
            String query = String.join(" ", terms.subList(0, Math.min(3, terms.size()))).replace('-', ' ');
            index.computeIfAbsent(topic, t -> new HashSet<>()).addAll(List.of(query.split(" ")));
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("id", "medpix-mqg:" + c.path("U_id").asText());
            e.put("set", "medpix");
            e.put("image_path", medpix.resolve("images").resolve(images.get(0).asText() + ".jpg").toAbsolutePath().toString());
            e.put("task", "query_generation");
            e.put("question", history + " What is the most likely diagnosis?");
            e.put("answer", "<book>" + query + "</book>");
            e.put("documents", List.of());
            e.put("reports", List.of("Axial CT shows a mass.", "Axial CT shows a mass and edema."));
            e.put("gold_topic", topic);
            // the scored candidates of the examples (MqgExamples): the target and a report word no topic is indexed under
            e.put("candidate_ranks", Map.of(query, Map.of("book", 0), "edema", Map.of("book", -1)));
            lines.add(json.writeValueAsString(e));
        }
        return lines;
    }

    /** Search over the slice's topics: ranked by how many query words a topic's words share (the book corpus only). */
    static final class OverlapRetrieval extends RetrievalGrpc.RetrievalImplBase {
        final Map<String, Set<String>> index;
        int searches;

        OverlapRetrieval(Map<String, Set<String>> index) {
            this.index = index;
        }

        @Override
        public void searchCorpus(SearchCorpusRequest req, StreamObserver<SearchCorpusResponse> out) {
            searches++;
            SearchCorpusResponse.Builder res = SearchCorpusResponse.newBuilder();
            if (req.getCorpus() == Corpus.BOOK) {
                Set<String> words = new HashSet<>(List.of(req.getQuery().toLowerCase().split("[ ,]+")));
                Map<String, Integer> score = new HashMap<>();
                index.forEach((topic, w) -> score.put(topic, (int) w.stream().filter(words::contains).count()));
                score.entrySet().stream().filter(e -> e.getValue() > 0)
                        .sorted(Map.Entry.<String, Integer>comparingByValue(Comparator.reverseOrder()).thenComparing(Map.Entry.comparingByKey()))
                        .limit(req.getK()).forEach(e -> res.addHits(KnowledgeHit.newBuilder().setId(e.getKey()).setTitle(e.getKey())
                                .setCorpus(Corpus.BOOK).setScore(e.getValue())));
            }
            out.onNext(res.build());
            out.onCompleted();
        }
    }

    @Test
    void trainsOnTaggedTargetsAndScoresItsQueriesWithRetrieval() throws Exception {
        Map<String, Set<String>> index = new HashMap<>();
        Path data = dir.resolve("mqg.jsonl");
        Files.write(data, slice(24, index));
        OverlapRetrieval retrieval = new OverlapRetrieval(index);
        Server server = ServerBuilder.forPort(0).addService(retrieval).build().start();
        try {
            Map<String, String> params = new LinkedHashMap<>(MqgJob.DEFAULTS);
            params.put("retrieval", "127.0.0.1:" + server.getPort());
            GeneratorJob.Settings s = new GeneratorJob.Settings(new GeneratorTrainer.Config(30, 8, 3e-3f, 7), 32, 1, 2, 256, 32, 0);
            JobRunner.Outcome out = MqgJob.run(data, data, s, params.get("retrieval"), dir.resolve("mqg"), "mqg-test", "1", params, p -> { });
            Map<String, Double> m = out.metrics();
            System.out.println("mqg test metrics: " + m);
            assertTrue(m.get("final_loss") < m.get("first_epoch_loss") * 0.7, "loss falls: " + m);
            assertEquals(24.0, m.get("mqg_eval_n"));
            double recall = m.get("knowledge_recall_at_5");
            double rule = m.get("rule_recall_at_5");
            assertTrue(recall >= 0 && recall <= 1 && rule > 0, m.toString());
            assertEquals(recall > rule ? recall : 0.0, m.get("promotable_recall_at_5"));
            // as a chooser the model prefers the target it was trained on to a word no topic has
            assertEquals(24 - m.get("mqg_context_fallbacks"), m.get("candidate_choice_n"));
            assertTrue(m.get("candidate_choice_recall_at_5") >= 0.5 && m.get("candidate_choice_per_token_recall_at_5") >= 0.5, m.toString());
            // the target (the question's first terms) finds its topic in every case; "edema" is no question word
            assertEquals(1.0, m.get("candidate_oracle_recall_at_5"), m.toString());
            assertEquals(1.0, m.get("candidate_question_oracle_recall_at_5"), m.toString());
            assertTrue(m.get("mqg_context_fallbacks") < 24 && m.get("mean_queries") >= 1, "every output holds at least one query: " + m);
            assertTrue(retrieval.searches >= 24 + 24 - m.get("mqg_context_fallbacks"), "the model's and the rule builder's queries were searched");
            var manifest = ModelBundles.read(out.bundle(), "generator");
            assertEquals(m.get("knowledge_recall_at_5"), manifest.getMetricsOrThrow("knowledge_recall_at_5"), 1e-9);
            assertEquals("query_generation", manifest.getTrainingOrThrow("task"));
            try (OnnxGenerator g = OnnxGenerator.load(out.bundle(), ExecutionProviders.choose("cpu", 0))) {
                var example = GeneratorExamples.read(data, 1).get(0);
                var image = GeneratorJob.decode(example.image());
                String text = g.generate(new GenerationInput(image, GeneratorJob.fittedPrompt(g, example, image, g.defaultMaxNewTokens())),
                        DecodingOptions.greedy(g.defaultMaxNewTokens()).withConstraint(TaggedQueryGrammar.DEFAULT), null).text();
                assertFalse(TaggedQueries.parse(text).isEmpty(), text);
            }
        } finally {
            server.shutdownNow();
        }
    }

    @Test
    void anMqgJobNeedsTheRetrievalServiceAndNoModality() {
        Map<String, String> params = new LinkedHashMap<>(MqgJob.DEFAULTS);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MqgJob.validate(StartJobRequest.newBuilder().setKind("mqg").build(), params));
        assertTrue(e.getMessage().contains("retrieval"), e.getMessage());
        params.put("retrieval", "127.0.0.1:1");
        assertThrows(IllegalArgumentException.class, () -> MqgJob.validate(StartJobRequest.newBuilder().setKind("mqg")
                .setModality(io.heterorag.proto.v1.Modality.RADIOLOGY).build(), params));
    }
}

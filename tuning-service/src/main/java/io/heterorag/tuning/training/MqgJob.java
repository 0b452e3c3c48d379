package io.heterorag.tuning.training;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.heterorag.guard.SecureSettings;
import io.heterorag.model.bundle.ExecutionProviders;
import io.heterorag.model.bundle.ModelBundles;
import io.heterorag.model.generation.DecodingOptions;
import io.heterorag.model.generation.Generation;
import io.heterorag.model.generation.GenerationInput;
import io.heterorag.model.generation.OnnxGenerator;
import io.heterorag.model.generation.QueryTerms;
import io.heterorag.model.generation.RagPrompt;
import io.heterorag.model.generation.TaggedQueries;
import io.heterorag.model.generation.TaggedQueryGrammar;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.RetrievalGrpc;
import io.heterorag.proto.v1.SearchCorpusRequest;
import io.heterorag.proto.v1.StartJobRequest;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Job kind {@code mqg}: trains the Multi-corpora Query Generator. The network, vocabulary, layout,
 * training, export and parity checks are the generator job's ({@link GeneratorJob}; the examples are
 * generator examples with task "query_generation" and the tagged queries as the answer). Then the
 * exported model writes queries for each eval case as querygen-service serves it (image, question and
 * retrieved reports fitted to the context, greedy under {@link TaggedQueryGrammar} copying the prompt's
 * words), the queries run
 * against the stack's real retrieval ({@code retrieval} = host:port of retrieval-service), and
 * {@code knowledge_recall_at_5} is the share of cases whose gold topic is among the first 5 hits of
 * one of its queries. The rule-based builder's queries get the same test ({@code rule_recall_at_5}).
 * {@code promotable_recall_at_5} is the model's recall when it beats the rule builder's, else 0: the
 * runner promotes on it, so a model is served only when it beats the rule builder and the MQG serving.
 */
final class MqgJob {

    static final Map<String, String> DEFAULTS;

    static {
        Map<String, String> d = new LinkedHashMap<>(JobRunner.GENERATOR_DEFAULTS);
        d.put("epochs", "12");
        d.put("retrieval", "");
        d.put("copy_loss", "true");
        DEFAULTS = Map.copyOf(d);
    }

    static final int K = 5;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One eval case: what querygen-service would be given, and the topic retrieval should find. */
    record Case(String id, Path image, String question, List<String> reports, String gold, List<String> candidates) {
    }

    private MqgJob() {
    }

    static JobRunner.Run validate(StartJobRequest req, Map<String, String> params) {
        if (req.getModality() != Modality.MODALITY_UNSPECIFIED) {
            throw new IllegalArgumentException("an mqg job serves every modality: leave the modality unset");
        }
        if (params.get("retrieval").isBlank()) {
            throw new IllegalArgumentException("parameter 'retrieval' must name retrieval-service (host:port): the job scores the "
                    + "model's queries with the real retrieval");
        }
        GeneratorJob.Settings settings = JobRunner.generatorSettings(params);
        return (p, dir, name, version, progress) -> run(Path.of(p.get("train")), Path.of(p.get("eval")), settings, p.get("retrieval"), dir,
                name, version, p, progress);
    }

    static JobRunner.Outcome run(Path train, Path eval, GeneratorJob.Settings s, String retrieval, Path bundleDir, String name,
            String version, Map<String, String> params, Consumer<String> progress) {
        GeneratorJob.Outcome trained = GeneratorJob.run(train, eval, s, bundleDir, name, version, params, progress);
        Map<String, Double> metrics = new LinkedHashMap<>(trained.metrics());
        List<Case> cases = cases(eval);
        // on a secure stack the tuning service's own client settings give mutual TLS, as its other gRPC clients have
        Config config = ConfigProvider.getConfig();
        ManagedChannel channel = SecureSettings.clientChannel(retrieval, "retrieval", k -> config.getOptionalValue(k, String.class));
        ExecutionProviders.Choice cpu = ExecutionProviders.choose("cpu", 0);
        try (OnnxGenerator g = OnnxGenerator.load(bundleDir, cpu)) {
            progress.accept("scoring the model's queries on " + cases.size() + " cases with the stack's retrieval");
            metrics.putAll(evaluate(g, cases, RetrievalGrpc.newBlockingStub(channel), progress));
        } finally {
            cpu.options().close();
            channel.shutdownNow();
            try {
                channel.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        // the bundle is a generator bundle (the runtime reads it as one); its record gains the MQG's figures
        ModelBundles.write(bundleDir, ModelBundles.read(bundleDir, "generator").toBuilder().putAllMetrics(metrics)
                .putTraining("task", "query_generation").build());
        return new JobRunner.Outcome(trained.bundle(), trained.modelId(), metrics);
    }

    /** The eval file's cases (generator examples with "gold_topic"). */
    static List<Case> cases(Path eval) {
        List<Case> out = new ArrayList<>();
        Map<String, String> gold = new HashMap<>();
        Map<String, List<String>> candidates = new HashMap<>();
        try {
            for (String line : Files.readAllLines(eval)) {
                if (!line.isBlank()) {
                    JsonNode n = JSON.readTree(line);
                    gold.put(n.path("id").asText(), n.path("gold_topic").asText(""));
                    List<String> cs = new ArrayList<>();
                    n.path("candidate_ranks").fieldNames().forEachRemaining(cs::add);
                    candidates.put(n.path("id").asText(), cs);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + eval, e);
        }
        for (GeneratorExamples.Example e : GeneratorExamples.read(eval, 0)) {
            String g = gold.getOrDefault(e.id(), "");
            if (g.isBlank()) {
                throw new IllegalArgumentException(eval + ": example '" + e.id() + "' has no gold_topic to score its queries on");
            }
            out.add(new Case(e.id(), e.image(), e.question(), e.reports(), g, candidates.getOrDefault(e.id(), List.of())));
        }
        return out;
    }

    static Map<String, Double> evaluate(OnnxGenerator g, List<Case> cases, RetrievalGrpc.RetrievalBlockingStub retrieval,
            Consumer<String> progress) {
        int budget = g.defaultMaxNewTokens();
        int found = 0;
        int ruleFound = 0;
        int queries = 0;
        int generatedTokens = 0;
        int fallbacks = 0;
        int chosenFound = 0;
        int chosenPerTokenFound = 0;
        int withCandidates = 0;
        int oracleFound = 0;
        int questionOracleFound = 0;
        Map<String, Integer> written = new LinkedHashMap<>();
        Map<Path, BufferedImage> decoded = new HashMap<>();
        for (int i = 0; i < cases.size(); i++) {
            Case c = cases.get(i);
            BufferedImage image = decoded.computeIfAbsent(c.image(), GeneratorJob::decode);
            // the rule builder (KeywordQueryBuilder): question terms + terms the reports share, the same text to every corpus
            List<String> terms = QueryTerms.questionTerms(c.question());
            List<String> rule = new ArrayList<>(terms);
            rule.addAll(QueryTerms.sharedTerms(c.reports(), new HashSet<>(terms), 6));
            String ruleQuery = String.join(" ", rule);
            boolean ruleHit = !rule.isEmpty() && List.of(Corpus.BOOK, Corpus.RESEARCH, Corpus.WIKI, Corpus.GUIDELINE).stream()
                    .anyMatch(corpus -> hit(retrieval, corpus, ruleQuery, c.gold()));
            ruleFound += ruleHit ? 1 : 0;
            // the prompt as querygen-service's GeneratorQueryWriter builds it; a question that alone does not fit is
            // answered there by the rule builder (fallback "context"), so it counts with the rule builder's result
            RagPrompt prompt = new RagPrompt("query_generation", c.question(), List.of(), List.of(), c.reports());
            int room = g.contextLength() - g.overheadTokens(new GenerationInput(image, "")) - budget;
            RagPrompt.Fitted fitted = prompt.fit(g::countTokens, room);
            if (g.countTokens(fitted.text()) > room) {
                fallbacks++;
                found += ruleHit ? 1 : 0;
            } else {
                // copying the words of the prompt the model reads, as querygen-service's GeneratorQueryWriter does
                java.util.Set<String> words = TaggedQueryGrammar.promptWords(c.question(), c.reports().subList(0, fitted.keptReports()));
                TaggedQueryGrammar grammar = words.isEmpty() ? TaggedQueryGrammar.DEFAULT : TaggedQueryGrammar.DEFAULT.copying(words);
                Generation out = g.generate(new GenerationInput(image, fitted.text()), DecodingOptions.greedy(budget).withConstraint(grammar), null);
                generatedTokens += out.tokenIds().length;
                List<TaggedQueries.Query> qs = TaggedQueries.parse(out.text()); // the grammar guarantees it parses
                queries += qs.size();
                qs.forEach(q -> written.merge(q.tag(), 1, Integer::sum));
                if (qs.stream().anyMatch(q -> hit(retrieval, corpus(q.tag()), q.text(), c.gold()))) {
                    found++;
                }
                if (!c.candidates().isEmpty()) {
                    withCandidates++;
                    Choice ch = choose(g, new GenerationInput(image, fitted.text()), c, budget, retrieval);
                    chosenFound += ch.chosen() ? 1 : 0;
                    chosenPerTokenFound += ch.chosenPerToken() ? 1 : 0;
                    oracleFound += ch.any() ? 1 : 0;
                    questionOracleFound += ch.anyFromQuestion() ? 1 : 0;
                }
            }
            if ((i + 1) % 10 == 0) {
                progress.accept("scored " + (i + 1) + "/" + cases.size() + " cases");
            }
        }
        int n = Math.max(1, cases.size());
        Map<String, Double> m = new LinkedHashMap<>();
        double recall = (double) found / n;
        double ruleRecall = (double) ruleFound / n;
        m.put("knowledge_recall_at_5", recall);
        m.put("rule_recall_at_5", ruleRecall);
        m.put("promotable_recall_at_5", recall > ruleRecall ? recall : 0.0);
        m.put("mqg_eval_n", (double) cases.size());
        if (withCandidates > 0) {
            m.put("candidate_choice_recall_at_5", (double) chosenFound / n);
            m.put("candidate_choice_per_token_recall_at_5", (double) chosenPerTokenFound / n);
            m.put("candidate_choice_n", (double) withCandidates);
            m.put("candidate_oracle_recall_at_5", (double) oracleFound / n);
            m.put("candidate_question_oracle_recall_at_5", (double) questionOracleFound / n);
        }
        int served = Math.max(1, cases.size() - fallbacks);
        m.put("mqg_context_fallbacks", (double) fallbacks);
        m.put("mean_queries", (double) queries / served);
        m.put("mean_query_tokens", (double) generatedTokens / served);
        for (String tag : TaggedQueryGrammar.TAGS) {
            m.put("skipped_" + tag, 1.0 - (double) written.getOrDefault(tag, 0) / served);
        }
        return m;
    }

    /**
     * A diagnostic, not served: the model as a chooser among a case's scored candidate book queries (from the
     * examples), by its log-probability of writing each (summed, which favours short ones, and per token), against
     * the best any candidate does and any made of question words only; every candidate searched once by the job.
     */
    record Choice(boolean chosen, boolean chosenPerToken, boolean any, boolean anyFromQuestion) {
    }

    static Choice choose(OnnxGenerator g, GenerationInput in, Case c, int budget, RetrievalGrpc.RetrievalBlockingStub retrieval) {
        java.util.Set<String> questionWords = TaggedQueryGrammar.promptWords(c.question(), List.of());
        Map<String, Boolean> hits = new HashMap<>();
        String best = null;
        String bestPerToken = null;
        double bestLp = Double.NEGATIVE_INFINITY;
        double bestMean = Double.NEGATIVE_INFINITY;
        for (String cand : c.candidates()) {
            hits.put(cand, hit(retrieval, Corpus.BOOK, cand, c.gold()));
            String tagged = TaggedQueries.render(List.of(new TaggedQueries.Query("book", cand)));
            int tokens = g.countTokens(tagged) + 1;
            if (tokens > budget) {
                continue; // the model could not write it within its budget
            }
            double lp = g.logProb(in, tagged);
            if (lp > bestLp) {
                bestLp = lp;
                best = cand;
            }
            if (lp / tokens > bestMean) {
                bestMean = lp / tokens;
                bestPerToken = cand;
            }
        }
        boolean any = hits.containsValue(true);
        boolean fromQuestion = hits.entrySet().stream()
                .anyMatch(e -> e.getValue() && questionWords.containsAll(List.of(e.getKey().split(" "))));
        return new Choice(best != null && hits.get(best), bestPerToken != null && hits.get(bestPerToken), any, fromQuestion);
    }

    private static boolean hit(RetrievalGrpc.RetrievalBlockingStub retrieval, Corpus corpus, String query, String gold) {
        var res = retrieval.searchCorpus(SearchCorpusRequest.newBuilder().setCorpus(corpus).setQuery(query).setK(K).build());
        String g = gold.strip().toLowerCase(Locale.ROOT);
        return res.getHitsList().stream().anyMatch(h -> h.getTitle().strip().toLowerCase(Locale.ROOT).equals(g));
    }

    private static Corpus corpus(String tag) {
        return Corpus.valueOf(tag.toUpperCase(Locale.ROOT));
    }
}

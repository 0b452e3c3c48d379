package io.heterorag.generation.answer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import io.grpc.Deadline;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.KnowledgeHit;
import io.heterorag.proto.v1.RankedAnswer;
import io.heterorag.proto.v1.ReportHit;
import io.heterorag.proto.v1.Task;

/**
 * The default answerer until a Med-LVLM bundle is served: evidence-grounded and extractive, NOT a
 * vision–language model. It ranks candidate answers named by the evidence — the titles of retrieved
 * knowledge (disease topics) and the diagnoses attached to retrieved reports — by summed support, and
 * answers with the best one, citing the evidence behind it. For report generation it returns the
 * closest retrieved report. It never writes text that is not in the evidence.
 */
public final class ExtractiveAnswerer implements Answerer {

    public static final String ID = "extractive-evidence-ranker@1";

    /**
     * Total weight of all reports' diagnoses relative to one top knowledge hit: reports are similar
     * cases, not answers, so together they break ties and add candidates but do not outvote knowledge.
     */
    static final double REPORT_WEIGHT = 0.5;

    @Override
    public String id() {
        return ID;
    }

    /** Ranking is immediate: the deadline was checked when the stage started, and all segments come at once. */
    @Override
    public Answer answer(Question q, Deadline deadline, Consumer<Segment> onSegment) {
        Answer a = answer(q.task(), q.reports(), q.knowledge());
        a.segments().forEach(onSegment);
        return a;
    }

    public Answer answer(Task task, List<ReportHit> reports, List<KnowledgeHit> knowledge) {
        List<RankedAnswer> candidates = rank(reports, knowledge);
        if (task == Task.REPORT_GENERATION) {
            if (reports.isEmpty()) {
                return answer("No similar report was found.", List.of(new Segment("No similar report was found.", List.of())), candidates);
            }
            ReportHit best = reports.get(0);
            return answer(best.getText(), List.of(new Segment(best.getText(), List.of(best.getId()))), candidates);
        }
        if (candidates.isEmpty()) {
            String none = "The retrieved evidence names no candidate answer.";
            return answer(none, List.of(new Segment(none, List.of())), candidates);
        }
        List<Segment> segments = new ArrayList<>();
        RankedAnswer top = candidates.get(0);
        segments.add(new Segment("Most likely: " + top.getText() + ".", top.getEvidenceIdsList()));
        if (candidates.size() > 1) {
            List<String> others = new ArrayList<>();
            Set<String> cites = new LinkedHashSet<>();
            for (RankedAnswer c : candidates.subList(1, Math.min(candidates.size(), 5))) {
                others.add(c.getText());
                cites.addAll(c.getEvidenceIdsList());
            }
            segments.add(new Segment(" Also consider: " + String.join("; ", others) + ".", List.copyOf(cites)));
        }
        StringBuilder text = new StringBuilder();
        segments.forEach(s -> text.append(s.text()));
        return answer(text.toString(), segments, candidates);
    }

    private static Answer answer(String text, List<Segment> segments, List<RankedAnswer> candidates) {
        return new Answer(text, segments, candidates, "", 0, 0, 0);
    }

    /**
     * Knowledge documents (not graph entries) support their title with 1/(1+rank) of their query; each report supports its
     * diagnosis with REPORT_WEIGHT × similarity / number of reports. Candidates differing only in case are merged.
     */
    static List<RankedAnswer> rank(List<ReportHit> reports, List<KnowledgeHit> knowledge) {
        Map<String, String> display = new LinkedHashMap<>();
        Map<String, Double> score = new LinkedHashMap<>();
        Map<String, Set<String>> evidence = new LinkedHashMap<>();
        Map<String, Integer> rankInQuery = new LinkedHashMap<>();
        for (KnowledgeHit h : knowledge) {
            if (h.getCorpus() == Corpus.GRAPH) {
                continue; // definitions and relations of a query term: context for a VLM, not a guess at the answer
            }
            int rank = rankInQuery.merge(h.getCorpus() + "\u0000" + h.getQuery(), 1, Integer::sum) - 1;
            add(h.getTitle(), 1.0 / (1 + rank), h.getId(), display, score, evidence);
        }
        for (ReportHit r : reports) {
            add(r.getMetadataOrDefault("diagnosis", ""), REPORT_WEIGHT * Math.max(0, r.getScore()) / reports.size(), r.getId(), display, score, evidence);
        }
        return score.entrySet().stream()
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed().thenComparing(Map.Entry::getKey))
                .map(e -> RankedAnswer.newBuilder().setText(display.get(e.getKey())).setScore(e.getValue().floatValue())
                        .addAllEvidenceIds(evidence.get(e.getKey())).build())
                .toList();
    }

    private static void add(String candidate, double weight, String evidenceId, Map<String, String> display,
            Map<String, Double> score, Map<String, Set<String>> evidence) {
        String c = candidate == null ? "" : candidate.strip();
        if (c.isEmpty()) {
            return;
        }
        String key = c.toLowerCase(Locale.ROOT);
        display.putIfAbsent(key, c);
        score.merge(key, weight, Double::sum);
        evidence.computeIfAbsent(key, k -> new LinkedHashSet<>()).add(evidenceId);
    }

}

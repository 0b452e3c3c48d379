package io.heterorag.model.generation;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToIntFunction;

/**
 * The method's prompt (HeteroRAG, inference step 4): the task, the retrieved documents, the
 * retrieved reports marked as for reference only, then the question. Serving and training build
 * prompts here, so a model is trained on exactly the text it is served with.
 *
 * @param task       "closed_vqa", "open_vqa", "report_generation" or "query_generation"
 * @param choices    closed questions: the allowed answers (shown to the model)
 * @param documents  knowledge hits, best first ("title: text")
 * @param reports    retrieved reports, best first
 */
public record RagPrompt(String task, String question, List<String> choices, List<String> documents, List<String> reports) {

    /** Longest evidence item in characters: one long chunk must not take the whole context. */
    public static final int MAX_ITEM_CHARS = 400;

    public RagPrompt {
        task = task.toLowerCase(Locale.ROOT);
        question = question == null ? "" : question.strip();
        choices = List.copyOf(choices);
        documents = List.copyOf(documents);
        reports = List.copyOf(reports);
    }

    /** The prompt with the first {@code keepDocuments} documents and {@code keepReports} reports. */
    public String render(int keepDocuments, int keepReports) {
        StringBuilder s = new StringBuilder();
        s.append(switch (task) {
            case "closed_vqa" -> "Answer the question with one of: "
                    + String.join(", ", choices.isEmpty() ? List.of("yes", "no") : choices) + ".";
            case "report_generation" -> "Write the findings of the report for this image.";
            // the Multi-corpora Query Generator: its answer is the tagged queries (TaggedQueryGrammar)
            case "query_generation" -> "Write search queries per corpus.";
            default -> "Answer the question briefly.";
        }).append('\n');
        if (keepDocuments > 0) {
            s.append("Retrieved Contents:\n");
            for (int i = 0; i < keepDocuments; i++) {
                s.append('[').append(i + 1).append("] ").append(clip(documents.get(i))).append('\n');
            }
        }
        if (keepReports > 0) {
            s.append("Reference Reports (for reference only):\n");
            for (int i = 0; i < keepReports; i++) {
                s.append("[R").append(i + 1).append("] ").append(clip(reports.get(i))).append('\n');
            }
        }
        if (!question.isEmpty()) {
            s.append("Question: ").append(question).append('\n');
        }
        return s.append("Answer:").toString();
    }

    public String render() {
        return render(documents.size(), reports.size());
    }

    /** A prompt that fits, and how many evidence items were left out to make it fit. */
    public record Fitted(String text, int keptDocuments, int keptReports, int dropped) {
    }

    /**
     * The longest prompt within {@code budgetTokens}: reports are dropped first (they are for
     * reference only), then documents, lowest-ranked first; the task and the question are never cut.
     * When even the bare prompt is over budget it is returned as it is (the caller refuses it).
     */
    public Fitted fit(ToIntFunction<String> countTokens, int budgetTokens) {
        int docs = documents.size();
        int reps = reports.size();
        while (docs + reps > 0 && countTokens.applyAsInt(render(docs, reps)) > budgetTokens) {
            if (reps > 0) {
                reps--;
            } else {
                docs--;
            }
        }
        return new Fitted(render(docs, reps), docs, reps, documents.size() - docs + reports.size() - reps);
    }

    /** Ids of the evidence that was in a fitted prompt, in prompt order: documents, then reports. */
    public static <T> List<T> kept(List<T> documents, List<T> reports, Fitted f) {
        List<T> out = new ArrayList<>(documents.subList(0, f.keptDocuments()));
        out.addAll(reports.subList(0, f.keptReports()));
        return out;
    }

    static String clip(String text) {
        String t = text.replace('\n', ' ').strip();
        return t.length() <= MAX_ITEM_CHARS ? t : t.substring(0, MAX_ITEM_CHARS) + "…";
    }
}

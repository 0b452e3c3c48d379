package io.heterorag.tuning.preference;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.heterorag.tuning.training.GeneratorExamples;
import io.heterorag.tuning.training.GeneratorExamples.Example;

/**
 * Labelled examples for pair building: the generator's training examples (docs/generator.md) with
 * the ids of their evidence. The CLI writes {@code document_ids} and {@code report_ids} beside the
 * texts; a file without them gets positional ids ("EXAMPLE#document1"), so pairs still name what
 * each side held.
 */
public final class LabelledExamples {

    /** An example and the ids of its documents and reports, in the same order as their texts. */
    public record Labelled(Example example, List<String> documentIds, List<String> reportIds) {
        public Labelled {
            if (documentIds.size() != example.documents().size() || reportIds.size() != example.reports().size()) {
                throw new IllegalArgumentException("example '" + example.id() + "': " + documentIds.size() + " document ids for "
                        + example.documents().size() + " documents, " + reportIds.size() + " report ids for " + example.reports().size()
                        + " reports");
            }
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private LabelledExamples() {
    }

    /** The first {@code max} examples of the file (max &lt;= 0: all), read as the generator job reads them. */
    public static List<Labelled> read(Path file, int max) {
        List<Example> examples = GeneratorExamples.read(file, max);
        List<String> lines;
        try {
            lines = Files.readAllLines(file).stream().filter(l -> !l.isBlank()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        List<Labelled> out = new ArrayList<>();
        for (int i = 0; i < examples.size(); i++) {
            Example e = examples.get(i);
            try {
                JsonNode n = JSON.readTree(lines.get(i));
                out.add(new Labelled(e, ids(n.path("document_ids"), e.id() + "#document", e.documents().size()),
                        ids(n.path("report_ids"), e.id() + "#report", e.reports().size())));
            } catch (IOException ex) {
                throw new IllegalArgumentException(file + " line " + (i + 1) + ": " + ex.getMessage(), ex);
            }
        }
        return out;
    }

    private static List<String> ids(JsonNode array, String prefix, int count) {
        if (array.isArray() && array.size() == count) {
            List<String> out = new ArrayList<>();
            array.forEach(v -> out.add(v.asText()));
            return out;
        }
        List<String> out = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            out.add(prefix + i);
        }
        return out;
    }
}

package io.heterorag.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Reads a directory laid out like MedPix 2.0 (descriptions_SPLIT.jsonl, data_SPLIT.jsonl,
 * topics.jsonl, images/NAME.jpg).
 */
final class MedPix {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One image with its report: the caption plus the case's findings. */
    record ImageReport(String image, Path path, String caseId, String report, Map<String, String> metadata) {
    }

    /** One clinical case: its images, history and the disease topic it belongs to. */
    record Case(String id, List<String> images, String history, String findings, String topicTitle) {
    }

    record Topic(String id, String title, String content, String category, String acrCode) {
    }

    private final Path dir;

    MedPix(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("not a directory: " + dir);
        }
        this.dir = dir;
    }

    List<Case> cases(String split) {
        List<Case> out = new ArrayList<>();
        for (JsonNode n : lines("data_" + split + ".jsonl")) {
            List<String> images = new ArrayList<>();
            n.path("TAC").forEach(i -> images.add(i.asText()));
            n.path("MRI").forEach(i -> images.add(i.asText()));
            JsonNode c = n.path("Case");
            out.add(new Case(n.path("U_id").asText(), images, text(c, "History"), text(c, "Findings"),
                    text(n.path("Topic"), "Title")));
        }
        return out;
    }

    List<ImageReport> reports(String split) {
        Map<String, Case> cases = new HashMap<>();
        Map<String, JsonNode> rawCases = new HashMap<>();
        for (JsonNode n : lines("data_" + split + ".jsonl")) {
            rawCases.put(n.path("U_id").asText(), n);
        }
        cases(split).forEach(c -> cases.put(c.id(), c));
        List<ImageReport> out = new ArrayList<>();
        for (JsonNode n : lines("descriptions_" + split + ".jsonl")) {
            String image = n.path("image").asText();
            String caseId = n.path("U_id").asText();
            Case c = cases.get(caseId);
            JsonNode d = n.path("Description");
            String caption = text(d, "Caption");
            String findings = c == null ? "" : c.findings();
            String report = (caption + "\n" + findings).strip();
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("case_id", caseId);
            meta.put("image", image);
            meta.put("scan", n.path("Type").asText());
            meta.put("plane", text(d, "Plane"));
            meta.put("location", n.path("Location").asText(""));
            if (c != null) {
                meta.put("diagnosis", c.topicTitle());
                meta.put("case_diagnosis", text(rawCases.get(caseId).path("Case"), "Case Diagnosis"));
            }
            out.add(new ImageReport(image, imagePath(image), caseId, report, meta));
        }
        return out;
    }

    List<Topic> topics() {
        List<Topic> out = new ArrayList<>();
        for (JsonNode n : lines("topics.jsonl")) {
            out.add(new Topic(n.path("id").asText(), text(n, "title"), text(n, "content"), text(n, "category"), text(n, "acr_code")));
        }
        return out;
    }

    Path imagePath(String image) {
        return dir.resolve("images").resolve(image + ".jpg");
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.path(field);
        return v.isNull() || v.isMissingNode() ? "" : v.asText().strip();
    }

    private List<JsonNode> lines(String name) {
        Path file = dir.resolve(name);
        if (!Files.exists(file)) {
            throw new IllegalArgumentException("missing " + file);
        }
        try {
            List<JsonNode> out = new ArrayList<>();
            for (String line : Files.readAllLines(file)) {
                if (!line.isBlank()) {
                    out.add(JSON.readTree(line));
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }
}

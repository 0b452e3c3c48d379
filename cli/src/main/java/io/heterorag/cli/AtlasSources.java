package io.heterorag.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import com.google.protobuf.ByteString;
import io.heterorag.proto.v1.AtlasRecord;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.DocumentRecord;
import io.heterorag.proto.v1.GraphRelationRecord;
import io.heterorag.proto.v1.GraphTermRecord;
import io.heterorag.proto.v1.Image;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.ReportRecord;

/**
 * Adapters from MedAtlas source files to ingest records, read one line at a time (sources can be
 * far larger than memory). Each yields {@link Item}s: a record with its Kafka key, or a malformed
 * line with the reason, which goes to the dead-letter topic instead. Layouts: docs/ingest.md.
 */
final class AtlasSources {

    private static final ObjectMapper JSON = new ObjectMapper();

    private AtlasSources() {
    }

    /** A record to publish, or (record null) a malformed source line with why it was refused. */
    record Item(String key, AtlasRecord record, String reason, byte[] raw) {

        static Item of(String collection, AtlasRecord r) {
            return new Item(collection + "/" + r.getId(), r, null, null);
        }

        static Item malformed(String ref, String reason, String raw) {
            return new Item(ref, null, reason, raw.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** Text corpus JSONL: one {"id", "title", "content"} object per line. */
    static void corpus(Path file, Corpus corpus, String source, Consumer<Item> out) {
        String collection = "corpus-" + corpus.name().toLowerCase(Locale.ROOT);
        jsonLines(file, (ref, line, n) -> {
            String id = text(n, "id");
            String content = text(n, "content");
            if (id.isEmpty() || content.isEmpty()) {
                out.accept(Item.malformed(ref, "a corpus line needs a non-empty id and content", line));
                return;
            }
            out.accept(Item.of(collection, AtlasRecord.newBuilder().setId(id).setDocument(DocumentRecord.newBuilder()
                    .setCorpus(corpus).setTitle(text(n, "title")).setContent(content).setSource(source)).build()));
        }, out);
    }

    /**
     * Report repository as JSONL or CSV (with a header) of {id, image_path, report, modality, source};
     * image_path is relative to the images folder; modality and source may be left empty for the defaults.
     */
    static void reports(Path file, Path images, Modality defaultModality, String defaultSource, Consumer<Item> out) {
        LineHandler handler = (ref, line, n) -> {
            String id = text(n, "id");
            String report = text(n, "report");
            String imagePath = text(n, "image_path");
            if (id.isEmpty() || report.isEmpty() || imagePath.isEmpty()) {
                out.accept(Item.malformed(ref, "a report needs an id, an image_path and a report", line));
                return;
            }
            Modality m = defaultModality;
            if (!text(n, "modality").isEmpty()) {
                try {
                    m = Modality.valueOf(text(n, "modality").toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    out.accept(Item.malformed(ref, "unknown modality " + text(n, "modality"), line));
                    return;
                }
            }
            Path image = images.resolve(imagePath);
            if (!Files.isRegularFile(image)) {
                out.accept(Item.malformed(ref, "image not found: " + imagePath, line));
                return;
            }
            String source = text(n, "source").isEmpty() ? defaultSource : text(n, "source");
            out.accept(Item.of("reports-" + m.name().toLowerCase(Locale.ROOT), AtlasRecord.newBuilder().setId(id)
                    .setReport(ReportRecord.newBuilder().setModality(m).setText(report).setSource(source)
                            .setImage(Image.newBuilder().setMediaType(mediaType(imagePath)).setData(ByteString.copyFrom(read(image))))
                            .putMetadata("image_path", imagePath))
                    .build()));
        };
        if (file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".csv")) {
            csv(file, handler);
        } else {
            jsonLines(file, handler, out);
        }
    }

    /**
     * Knowledge graph as two TSV files: terms (term_id, name, definition) and relations (head_id,
     * relation, tail_id); a first line starting with "term_id" / "head_id" is a header. Relations
     * carry the names of their terms, so every relation must name known terms.
     */
    static void graph(Path terms, Path relations, String source, Consumer<Item> out) {
        Map<String, String> names = new HashMap<>();
        tsv(terms, "term_id", 3, (ref, line, f) -> {
            if (f[0].isBlank() || f[1].isBlank()) {
                out.accept(Item.malformed(ref, "a term needs a term_id and a name", line));
                return;
            }
            names.put(f[0], f[1]);
            out.accept(term(f[0], f[1], f[2], source));
        }, out);
        tsv(relations, "head_id", 3, (ref, line, f) -> {
            String head = names.get(f[0]);
            String tail = names.get(f[2]);
            if (head == null || tail == null || f[1].isBlank()) {
                out.accept(Item.malformed(ref, head == null ? "unknown head term " + f[0]
                        : tail == null ? "unknown tail term " + f[2] : "empty relation", line));
                return;
            }
            out.accept(relation(f[0], head, f[1], f[2], tail, source));
        }, out);
    }

    /**
     * The MedPix 2.0 layout: each image of the split with its caption and its case's findings as a
     * radiology report; topics.jsonl as the book corpus; and a graph derived from the topics' own
     * fields: each topic "is a" its MedPix category and "located in" its ACR anatomic field.
     */
    static void medpix(Path dir, String split, Consumer<Item> out) {
        MedPix medpix = new MedPix(dir);
        for (MedPix.ImageReport r : medpix.reports(split)) {
            if (!Files.exists(r.path())) {
                out.accept(Item.malformed("medpix:" + r.image(), "image not found: " + r.path().getFileName(), r.image()));
                continue;
            }
            out.accept(Item.of("reports-radiology", AtlasRecord.newBuilder().setId("medpix:" + r.image()).setReport(ReportRecord
                    .newBuilder().setModality(Modality.RADIOLOGY).setImage(Image.newBuilder().setMediaType("image/jpeg")
                            .setData(ByteString.copyFrom(read(r.path()))))
                    .setText(r.report()).setSource(MEDPIX).putAllMetadata(r.metadata())).build()));
        }
        Map<String, String> added = new HashMap<>();
        for (MedPix.Topic t : medpix.topics()) {
            if (t.content().isBlank()) {
                continue;
            }
            out.accept(Item.of("corpus-book", AtlasRecord.newBuilder().setId(t.id()).setDocument(DocumentRecord.newBuilder()
                    .setCorpus(Corpus.BOOK).setTitle(t.title()).setContent(t.content()).setSource(MEDPIX + " topics")).build()));
            out.accept(term(t.id(), t.title(), firstSentences(t.content(), 400), MEDPIX));
            if (!t.category().isBlank()) {
                String id = "medpix-category:" + t.category().toLowerCase(Locale.ROOT);
                if (added.putIfAbsent(id, t.category()) == null) {
                    out.accept(term(id, t.category(), "MedPix disease category.", MEDPIX));
                }
                out.accept(relation(t.id(), t.title(), "is a", id, t.category(), MEDPIX));
            }
            String field = ACR_FIELDS.get(t.acrCode().isEmpty() ? "" : t.acrCode().substring(0, 1));
            if (field != null) {
                String id = "acr-field:" + t.acrCode().charAt(0);
                if (added.putIfAbsent(id, field) == null) {
                    out.accept(term(id, field, "Anatomic field " + t.acrCode().charAt(0) + " of the ACR Index of radiological diagnoses.", MEDPIX));
                }
                out.accept(relation(t.id(), t.title(), "located in", id, field, MEDPIX));
            }
        }
    }

    static final String MEDPIX = "medpix-2.0";

    /** Anatomic fields of the ACR Index (the first digit of a MedPix ACR code). */
    static final Map<String, String> ACR_FIELDS = Map.of("1", "skull and contents", "2", "face, mastoids and neck",
            "3", "spine and contents", "4", "skeletal system", "5", "heart", "6", "chest", "7", "gastrointestinal system",
            "8", "genitourinary system", "9", "vascular and lymphatic systems");

    private static Item term(String id, String name, String definition, String source) {
        return Item.of("corpus-graph", AtlasRecord.newBuilder().setId("term:" + id).setTerm(GraphTermRecord.newBuilder()
                .setTermId(id).setName(name).setDefinition(definition).setSource(source)).build());
    }

    private static Item relation(String headId, String head, String relation, String tailId, String tail, String source) {
        return Item.of("corpus-graph", AtlasRecord.newBuilder().setId("rel:" + headId + "|" + relation + "|" + tailId)
                .setRelation(GraphRelationRecord.newBuilder().setHeadId(headId).setHeadName(head).setRelation(relation)
                        .setTailId(tailId).setTailName(tail).setSource(source)).build());
    }

    /** Whole sentences from the start of a text, up to about max characters (at least one). */
    static String firstSentences(String text, int max) {
        String[] sentences = text.strip().split("(?<=[.!?])\\s+");
        StringBuilder b = new StringBuilder(sentences[0].strip());
        for (int i = 1; i < sentences.length && b.length() + sentences[i].length() < max; i++) {
            b.append(' ').append(sentences[i].strip());
        }
        return b.toString().replaceAll("\\s+", " ");
    }

    static String mediaType(String path) {
        String p = path.toLowerCase(Locale.ROOT);
        return p.endsWith(".png") ? "image/png" : p.endsWith(".dcm") ? "application/dicom" : "image/jpeg";
    }

    static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + p, e);
        }
    }

    interface LineHandler {
        void accept(String ref, String line, JsonNode node);
    }

    interface FieldsHandler {
        void accept(String ref, String line, String[] fields);
    }

    private static void jsonLines(Path file, LineHandler handler, Consumer<Item> out) {
        eachLine(file, (ref, line) -> {
            JsonNode n;
            try {
                n = JSON.readTree(line);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                out.accept(Item.malformed(ref, "not JSON: " + e.getOriginalMessage(), line));
                return;
            }
            if (!n.isObject()) {
                out.accept(Item.malformed(ref, "not a JSON object", line));
                return;
            }
            handler.accept(ref, line, n);
        });
    }

    private static void tsv(Path file, String header, int columns, FieldsHandler handler, Consumer<Item> out) {
        eachLine(file, (ref, line) -> {
            if (ref.endsWith(":1") && line.startsWith(header)) {
                return;
            }
            String[] f = line.split("\t", -1);
            if (f.length != columns) {
                out.accept(Item.malformed(ref, "expected " + columns + " tab-separated fields, found " + f.length, line));
                return;
            }
            for (int i = 0; i < f.length; i++) {
                f[i] = f[i].strip();
            }
            handler.accept(ref, line, f);
        });
    }

    private static void csv(Path file, LineHandler handler) {
        CsvMapper mapper = new CsvMapper();
        try (MappingIterator<Map<String, String>> rows = mapper.readerForMapOf(String.class)
                .with(CsvSchema.emptySchema().withHeader()).readValues(file.toFile())) {
            int row = 1;
            while (rows.hasNext()) {
                row++;
                Map<String, String> r = new LinkedHashMap<>(rows.next());
                handler.accept(file.getFileName() + ":" + row, JSON.writeValueAsString(r), JSON.valueToTree(r));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static void eachLine(Path file, java.util.function.BiConsumer<String, String> line) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("no such file: " + file);
        }
        try (BufferedReader r = Files.newBufferedReader(file)) {
            int n = 0;
            for (String l = r.readLine(); l != null; l = r.readLine()) {
                n++;
                if (!l.isBlank()) {
                    line.accept(file.getFileName() + ":" + n, l);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.path(field);
        return v.isNull() || v.isMissingNode() ? "" : v.asText().strip();
    }
}

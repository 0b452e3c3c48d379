package io.heterorag.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.heterorag.proto.v1.AtlasRecord;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.Modality;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The source adapters on small files of each layout, malformed lines included, and on the MedPix layout. */
class AtlasSourcesTest {

    static final Path MEDPIX = Path.of(System.getProperty("medpix.dir", "../../shared/data/medpix-2.0"));

    @TempDir
    Path dir;

    @Test
    void corpusJsonlBecomesDocumentsAndBadLinesAreRefusedWithTheirLine() throws IOException {
        Path f = Files.writeString(dir.resolve("wiki.jsonl"), """
                {"id": "w1", "title": "Pneumothorax", "content": "Air in the pleural space."}
                not json
                {"id": "", "content": "no id"}

                ["an array"]
                """);
        List<AtlasSources.Item> items = new ArrayList<>();
        AtlasSources.corpus(f, Corpus.WIKI, "wiki-2024", items::add);
        assertEquals(4, items.size());
        AtlasRecord r = items.get(0).record();
        assertEquals("corpus-wiki/w1", items.get(0).key());
        assertEquals("Pneumothorax", r.getDocument().getTitle());
        assertEquals(Corpus.WIKI, r.getDocument().getCorpus());
        assertEquals("wiki-2024", r.getDocument().getSource());
        assertEquals("wiki.jsonl:2", items.get(1).key());
        assertTrue(items.get(1).reason().startsWith("not JSON"), items.get(1).reason());
        assertEquals("not json", new String(items.get(1).raw()));
        assertEquals("a corpus line needs a non-empty id and content", items.get(2).reason());
        assertEquals("wiki.jsonl:5", items.get(3).key());
    }

    @Test
    void reportsCsvWithQuotedFieldsAndMissingImages() throws IOException {
        Path images = Files.createDirectories(dir.resolve("img"));
        Files.copy(MEDPIX.resolve("images/MPX1007_synpic46719.jpg"), images.resolve("a.jpg"));
        Path f = Files.writeString(dir.resolve("reports.csv"), """
                id,image_path,report,modality,source
                r1,a.jpg,"Axial CT, contrast: ""no"" acute findings.
                Second line.",,
                r2,missing.png,Normal.,radiology,roco
                r3,a.jpg,Fundus.,dermatology,
                """);
        List<AtlasSources.Item> items = new ArrayList<>();
        AtlasSources.reports(f, images, Modality.RADIOLOGY, "site-a", items::add);
        assertEquals(3, items.size());
        AtlasRecord r1 = items.get(0).record();
        assertEquals("reports-radiology/r1", items.get(0).key());
        assertEquals("Axial CT, contrast: \"no\" acute findings.\nSecond line.", r1.getReport().getText());
        assertEquals("site-a", r1.getReport().getSource());
        assertEquals("image/jpeg", r1.getReport().getImage().getMediaType());
        assertEquals(Files.size(images.resolve("a.jpg")), r1.getReport().getImage().getData().size());
        assertEquals("image not found: missing.png", items.get(1).reason());
        assertEquals("unknown modality dermatology", items.get(2).reason());
    }

    @Test
    void graphTsvResolvesRelationNamesAndRefusesUnknownTerms() throws IOException {
        Path terms = Files.writeString(dir.resolve("terms.tsv"), """
                term_id\tname\tdefinition
                C1\tPneumonia\tInflammation of the lung.
                D1\tAmoxicillin\tA penicillin antibiotic.
                bad line without tabs
                """);
        Path relations = Files.writeString(dir.resolve("relations.tsv"), """
                head_id\trelation\ttail_id
                C1\tmay be treated by\tD1
                C1\tis a\tC404
                """);
        List<AtlasSources.Item> items = new ArrayList<>();
        AtlasSources.graph(terms, relations, "umls-sample", items::add);
        assertEquals(5, items.size());
        assertEquals("corpus-graph/term:C1", items.get(0).key());
        assertEquals("expected 3 tab-separated fields, found 1", items.get(2).reason());
        AtlasRecord rel = items.get(3).record();
        assertEquals("Pneumonia", rel.getRelation().getHeadName());
        assertEquals("Amoxicillin", rel.getRelation().getTailName());
        assertEquals("rel:C1|may be treated by|D1", rel.getId());
        assertNull(items.get(4).record());
        assertEquals("unknown tail term C404", items.get(4).reason());
    }

    @Test
    void medpixYieldsReportsTopicsAndTheGraphOfTopicFields() {
        List<AtlasSources.Item> items = new ArrayList<>();
        AtlasSources.medpix(MEDPIX, "dev", items::add);
        long reports = items.stream().filter(i -> i.key().startsWith("reports-radiology/")).count();
        long topics = items.stream().filter(i -> i.key().startsWith("corpus-book/")).count();
        List<AtlasRecord> relations = items.stream().map(AtlasSources.Item::record)
                .filter(r -> r != null && r.hasRelation()).toList();
        assertTrue(reports > 100, "dev images: " + reports);
        assertEquals(589, topics);
        assertTrue(relations.stream().anyMatch(r -> r.getRelation().getRelation().equals("located in")
                && r.getRelation().getTailName().equals("chest")));
        assertTrue(items.stream().allMatch(i -> i.record() != null), "the MedPix copy is complete");
        String definition = items.stream().filter(i -> i.key().equals("corpus-graph/term:medpix-topic-0000")).findFirst()
                .orElseThrow().record().getTerm().getDefinition();
        // whole sentences from the topic's discussion, up to about 400 characters, whitespace folded
        assertTrue(definition.startsWith("Bladder diverticula most often occur as a result of outlet obstruction. Occasionally,"));
        assertTrue(definition.endsWith("can be seen with urethral valves.") && definition.length() <= 400, definition);
    }
}

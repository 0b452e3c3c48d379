package io.heterorag.retrieval.ingest;

import java.awt.image.BufferedImage;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jakarta.inject.Singleton;

import io.heterorag.proto.v1.AtlasRecord;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.DocumentRecord;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.RejectedRecord;
import io.heterorag.proto.v1.ReportRecord;
import io.heterorag.model.ImageDecoder;
import io.heterorag.retrieval.model.Models;
import io.heterorag.retrieval.store.Collection;
import io.heterorag.retrieval.store.VectorStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;

/**
 * Stores MedAtlas records (from gRPC or Kafka): validates, skips records whose content hash is
 * already stored, embeds the rest in batches and upserts them by id. Re-delivery is harmless.
 */
@Singleton
public class AtlasIngestor {

    static final int EMBED_BATCH = 16;

    private final VectorStore store;
    private final Models models;
    private final Chunker chunker = new Chunker(1000, 200);
    private final MeterRegistry metrics;

    public AtlasIngestor(VectorStore store, Models models, MeterRegistry metrics) {
        this.store = store;
        this.models = models;
        this.metrics = metrics;
    }

    /** What happened to a batch: ids stored, ids already stored unchanged, and rejections. */
    public record Result(int stored, int unchanged, List<RejectedRecord> rejected) {
    }

    public Result ingest(List<AtlasRecord> records) {
        List<RejectedRecord> rejected = new ArrayList<>();
        Map<Collection, List<AtlasRecord>> todo = new LinkedHashMap<>();
        Map<String, BufferedImage> decoded = new LinkedHashMap<>();
        int unchanged = 0;
        for (AtlasRecord r : records) {
            try {
                Collection target = target(r);
                // unchanged content is skipped before any decoding or embedding
                if (hash(r).equals(target.storedHash(r.getId()))) {
                    unchanged++;
                } else {
                    validate(r, decoded);
                    todo.computeIfAbsent(target, c -> new ArrayList<>()).add(r);
                }
            } catch (IllegalArgumentException e) {
                rejected.add(RejectedRecord.newBuilder().setId(r.getId()).setReason(e.getMessage()).build());
            }
        }
        int stored = 0;
        for (Map.Entry<Collection, List<AtlasRecord>> e : todo.entrySet()) {
            List<Collection.Entry> entries = new ArrayList<>();
            for (int i = 0; i < e.getValue().size(); i += EMBED_BATCH) {
                List<AtlasRecord> batch = e.getValue().subList(i, Math.min(e.getValue().size(), i + EMBED_BATCH));
                entries.addAll(batch.get(0).hasReport() ? reportEntries(batch, decoded) : documentEntries(batch));
            }
            e.getKey().upsert(entries);
            stored += e.getValue().size();
            metrics.counter("heterorag_ingested_records", "collection", e.getKey().name()).increment(e.getValue().size());
        }
        if (!rejected.isEmpty()) {
            // ids and reasons only: record contents may be patient data
            Log.warnf("ingest rejected %d of %d records, first: %s (%s)", rejected.size(), records.size(),
                    rejected.get(0).getId(), rejected.get(0).getReason());
        }
        return new Result(stored, unchanged, rejected);
    }

    private Collection target(AtlasRecord r) {
        if (r.getId().isBlank()) {
            throw new IllegalArgumentException("record id is empty");
        }
        return switch (r.getKindCase()) {
            case REPORT -> {
                Modality m = r.getReport().getModality();
                if (m == Modality.MODALITY_UNSPECIFIED || m == Modality.UNRECOGNIZED) {
                    throw new IllegalArgumentException("report modality is missing or unknown");
                }
                yield store.reports(m);
            }
            case DOCUMENT -> {
                Corpus c = r.getDocument().getCorpus();
                if (c == Corpus.CORPUS_UNSPECIFIED || c == Corpus.UNRECOGNIZED) {
                    throw new IllegalArgumentException("document corpus is missing or unknown");
                }
                yield store.corpus(c);
            }
            default -> throw new IllegalArgumentException("record has neither a report nor a document");
        };
    }

    private static void validate(AtlasRecord r, Map<String, BufferedImage> decoded) {
        if (r.hasReport()) {
            ReportRecord rep = r.getReport();
            if (rep.getText().isBlank()) {
                throw new IllegalArgumentException("report text is empty");
            }
            decoded.put(r.getId(), ImageDecoder.decode(rep.getImage().getData().toByteArray(), rep.getImage().getMediaType()));
        } else if (r.getDocument().getContent().isBlank()) {
            throw new IllegalArgumentException("document content is empty");
        }
    }

    private List<Collection.Entry> reportEntries(List<AtlasRecord> batch, Map<String, BufferedImage> decoded) {
        Modality m = batch.get(0).getReport().getModality();
        float[][] vectors = models.image(m).embed(batch.stream().map(r -> decoded.get(r.getId())).toList());
        List<Collection.Entry> out = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
            AtlasRecord r = batch.get(i);
            ReportRecord rep = r.getReport();
            Map<String, String> meta = new LinkedHashMap<>(rep.getMetadataMap());
            meta.put("source", rep.getSource());
            out.add(new Collection.Entry(r.getId(), r.getId(), hash(r), "", rep.getText(), vectors[i],
                    rep.getImage().getData().toByteArray(), meta));
        }
        return out;
    }

    private List<Collection.Entry> documentEntries(List<AtlasRecord> batch) {
        List<Collection.Entry> out = new ArrayList<>();
        List<String> toEmbed = new ArrayList<>();
        for (AtlasRecord r : batch) {
            DocumentRecord doc = r.getDocument();
            List<String> chunks = chunker.chunk(doc.getContent());
            for (int c = 0; c < chunks.size(); c++) {
                out.add(new Collection.Entry(r.getId() + "#" + c, r.getId(), hash(r), doc.getTitle(), chunks.get(c),
                        null, null, Map.of("source", doc.getSource(), "document_id", r.getId())));
                // the title carries the topic; embedding it with each chunk keeps chunks findable by name
                toEmbed.add(doc.getTitle() + ". " + chunks.get(c));
            }
        }
        List<Collection.Entry> withVectors = new ArrayList<>();
        for (int i = 0; i < toEmbed.size(); i += EMBED_BATCH) {
            float[][] v = models.text().embed(toEmbed.subList(i, Math.min(toEmbed.size(), i + EMBED_BATCH)));
            for (int j = 0; j < v.length; j++) {
                Collection.Entry e = out.get(i + j);
                withVectors.add(new Collection.Entry(e.id(), e.group(), e.hash(), e.title(), e.text(), v[j], null, e.metadata()));
            }
        }
        return withVectors;
    }

    static String hash(AtlasRecord r) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(md.digest(r.toByteArray()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

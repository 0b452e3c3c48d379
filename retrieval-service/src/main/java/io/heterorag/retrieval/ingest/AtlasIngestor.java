package io.heterorag.retrieval.ingest;

import java.awt.image.BufferedImage;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

import jakarta.inject.Singleton;

import io.heterorag.proto.v1.AtlasRecord;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.DocumentRecord;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.RejectedRecord;
import io.heterorag.proto.v1.ReportRecord;
import io.heterorag.model.ImageDecoder;
import io.heterorag.retrieval.model.Models;
import io.heterorag.store.VectorCollection;
import io.heterorag.retrieval.store.ReportRepositories;
import io.heterorag.retrieval.store.VectorStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;

/**
 * Stores MedAtlas records (from gRPC or Kafka): validates, skips records whose content hash is
 * already stored, embeds the rest in batches and upserts them by id. Re-delivery is harmless.
 */
@Singleton
public class AtlasIngestor {

    private final VectorStore store;
    private final ReportRepositories reports;
    private final Models models;
    private final Chunker chunker = new Chunker(1000, 200);
    private final MeterRegistry metrics;

    public AtlasIngestor(VectorStore store, ReportRepositories reports, Models models, MeterRegistry metrics) {
        this.store = store;
        this.reports = reports;
        this.models = models;
        this.metrics = metrics;
    }

    /** What happened to a batch: ids stored, ids already stored unchanged, and rejections. */
    public record Result(int stored, int unchanged, List<RejectedRecord> rejected) {
    }

    public Result ingest(List<AtlasRecord> records) {
        List<RejectedRecord> rejected = new ArrayList<>();
        Map<Modality, List<AtlasRecord>> byModality = new EnumMap<>(Modality.class);
        Map<Corpus, List<AtlasRecord>> byCorpus = new EnumMap<>(Corpus.class);
        for (AtlasRecord r : records) {
            try {
                if (r.getId().isBlank()) {
                    throw new IllegalArgumentException("record id is empty");
                }
                switch (r.getKindCase()) {
                    case REPORT -> {
                        Modality m = r.getReport().getModality();
                        if (m == Modality.MODALITY_UNSPECIFIED || m == Modality.UNRECOGNIZED) {
                            throw new IllegalArgumentException("report modality is missing or unknown");
                        }
                        byModality.computeIfAbsent(m, k -> new ArrayList<>()).add(r);
                    }
                    case DOCUMENT -> {
                        Corpus c = r.getDocument().getCorpus();
                        if (c == Corpus.CORPUS_UNSPECIFIED || c == Corpus.UNRECOGNIZED) {
                            throw new IllegalArgumentException("document corpus is missing or unknown");
                        }
                        byCorpus.computeIfAbsent(c, k -> new ArrayList<>()).add(r);
                    }
                    default -> throw new IllegalArgumentException("record has neither a report nor a document");
                }
            } catch (IllegalArgumentException e) {
                rejected.add(reject(r, e));
            }
        }
        int[] counts = new int[2]; // stored, unchanged
        byModality.forEach((m, group) -> reports.write(m, lease ->
                store(lease.collection(), group, (batch, decoded) -> reportEntries(batch, lease.encoder().embed(
                        batch.stream().map(r -> decoded.get(r.getId())).toList())), rejected, counts)));
        byCorpus.forEach((c, group) -> store(store.corpus(c), group, (batch, decoded) -> documentEntries(batch), rejected, counts));
        if (!rejected.isEmpty()) {
            // ids and reasons only: record contents may be patient data
            Log.warnf("ingest rejected %d of %d records, first: %s (%s)", rejected.size(), records.size(),
                    rejected.get(0).getId(), rejected.get(0).getReason());
        }
        return new Result(counts[0], counts[1], rejected);
    }

    /** Skips unchanged records (before any decoding or embedding), validates, embeds in batches, upserts. */
    private Void store(VectorCollection target, List<AtlasRecord> group,
            BiFunction<List<AtlasRecord>, Map<String, BufferedImage>, List<VectorCollection.Entry>> embed,
            List<RejectedRecord> rejected, int[] counts) {
        Map<String, BufferedImage> decoded = new LinkedHashMap<>();
        List<AtlasRecord> todo = new ArrayList<>();
        for (AtlasRecord r : group) {
            if (hash(r).equals(target.storedHash(r.getId()))) {
                counts[1]++;
                continue;
            }
            try {
                validate(r, decoded);
                todo.add(r);
            } catch (IllegalArgumentException e) {
                rejected.add(reject(r, e));
            }
        }
        List<VectorCollection.Entry> entries = new ArrayList<>();
        for (int i = 0; i < todo.size(); i += Models.BULK_BATCH) {
            entries.addAll(embed.apply(todo.subList(i, Math.min(todo.size(), i + Models.BULK_BATCH)), decoded));
        }
        if (!entries.isEmpty()) {
            target.upsert(entries);
        }
        counts[0] += todo.size();
        metrics.counter("heterorag_ingested_records", "collection", target.name()).increment(todo.size());
        return null;
    }

    private static RejectedRecord reject(AtlasRecord r, IllegalArgumentException e) {
        return RejectedRecord.newBuilder().setId(r.getId()).setReason(e.getMessage()).build();
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

    private static List<VectorCollection.Entry> reportEntries(List<AtlasRecord> batch, float[][] vectors) {
        List<VectorCollection.Entry> out = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
            AtlasRecord r = batch.get(i);
            ReportRecord rep = r.getReport();
            Map<String, String> meta = new LinkedHashMap<>(rep.getMetadataMap());
            meta.put("source", rep.getSource());
            out.add(new VectorCollection.Entry(r.getId(), r.getId(), hash(r), "", rep.getText(), vectors[i],
                    rep.getImage().getData().toByteArray(), meta));
        }
        return out;
    }

    private List<VectorCollection.Entry> documentEntries(List<AtlasRecord> batch) {
        List<VectorCollection.Entry> out = new ArrayList<>();
        List<String> toEmbed = new ArrayList<>();
        for (AtlasRecord r : batch) {
            DocumentRecord doc = r.getDocument();
            List<String> chunks = chunker.chunk(doc.getContent());
            for (int c = 0; c < chunks.size(); c++) {
                out.add(new VectorCollection.Entry(r.getId() + "#" + c, r.getId(), hash(r), doc.getTitle(), chunks.get(c),
                        null, null, Map.of("source", doc.getSource(), "document_id", r.getId())));
                // the title carries the topic; embedding it with each chunk keeps chunks findable by name
                toEmbed.add(doc.getTitle() + ". " + chunks.get(c));
            }
        }
        List<VectorCollection.Entry> withVectors = new ArrayList<>();
        for (int i = 0; i < toEmbed.size(); i += Models.BULK_BATCH) {
            float[][] v = models.text().embed(toEmbed.subList(i, Math.min(toEmbed.size(), i + Models.BULK_BATCH)));
            for (int j = 0; j < v.length; j++) {
                VectorCollection.Entry e = out.get(i + j);
                withVectors.add(new VectorCollection.Entry(e.id(), e.group(), e.hash(), e.title(), e.text(), v[j], null, e.metadata()));
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

package io.heterorag.retrieval.ingest;

import java.awt.image.BufferedImage;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import io.heterorag.model.image.ImageDecoder;
import io.heterorag.model.image.ImageEncoder;
import io.heterorag.model.image.PerceptualHash;
import io.heterorag.proto.v1.AtlasRecord;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.DocumentRecord;
import io.heterorag.proto.v1.DuplicateRecord;
import io.heterorag.proto.v1.GraphRelationRecord;
import io.heterorag.proto.v1.GraphTermRecord;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.RejectedRecord;
import io.heterorag.proto.v1.ReportRecord;
import io.heterorag.retrieval.config.RetrievalConfig;
import io.heterorag.retrieval.model.Models;
import io.heterorag.retrieval.store.ReportRepositories;
import io.heterorag.retrieval.store.VectorStore;
import io.heterorag.store.VectorCollection;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.logging.Log;
import io.quarkus.runtime.Startup;

/**
 * Stores MedAtlas records (from gRPC or Kafka): validates, skips records whose content hash is
 * already stored, drops report images that nearly repeat one already in the repository (perceptual
 * hash), embeds the rest in batches and upserts them by id. Re-delivery is harmless. Time spent per
 * stage is exported as heterorag_ingest_stage_seconds{stage}.
 */
// started with the service: a bad chunk size or overlap fails the start, not the first ingest
@Startup
@Singleton
public class AtlasIngestor {

    private final VectorStore store;
    private final ReportRepositories reports;
    private final Models models;
    private final Chunker chunker;
    private final MeterRegistry metrics;
    private final int maxDuplicateDistance;
    private final Map<Modality, NearDuplicateIndex> duplicates = new ConcurrentHashMap<>();

    @Inject
    public AtlasIngestor(VectorStore store, ReportRepositories reports, Models models, MeterRegistry metrics, RetrievalConfig config) {
        this(store, reports, models, metrics, config.retrieval().dedup().maxDistance(), chunker(config.retrieval().ingest()));
    }

    /** The method's chunks (1,000 characters, 200 overlapping). */
    public AtlasIngestor(VectorStore store, ReportRepositories reports, Models models, MeterRegistry metrics, int maxDuplicateDistance) {
        this(store, reports, models, metrics, maxDuplicateDistance, new Chunker(1000, 200));
    }

    public AtlasIngestor(VectorStore store, ReportRepositories reports, Models models, MeterRegistry metrics,
            // bits two 64-bit perceptual hashes may differ by and still count as the same image; -1 keeps all
            int maxDuplicateDistance, Chunker chunker) {
        this.chunker = chunker;
        this.store = store;
        this.reports = reports;
        this.models = models;
        this.metrics = metrics;
        this.maxDuplicateDistance = maxDuplicateDistance;
    }

    /** The chunker heterorag.retrieval.ingest.* describes; a size or overlap out of range is refused naming both keys. */
    public static Chunker chunker(RetrievalConfig.Ingest ingest) {
        if (ingest.chunkSize() < 1 || ingest.chunkOverlap() < 0 || ingest.chunkOverlap() >= ingest.chunkSize()) {
            throw new IllegalArgumentException("heterorag.retrieval.ingest.chunk-size (" + ingest.chunkSize()
                    + ") must be at least 1 and heterorag.retrieval.ingest.chunk-overlap (" + ingest.chunkOverlap()
                    + ") at least 0 and below the chunk size");
        }
        return new Chunker(ingest.chunkSize(), ingest.chunkOverlap());
    }

    /** What happened to a batch: records stored, already stored unchanged, near-duplicates dropped, and rejections. */
    public record Result(int stored, int unchanged, List<RejectedRecord> rejected, List<DuplicateRecord> duplicates) {
    }

    /** A validated record waiting for its embedding. */
    private record Pending(AtlasRecord record, BufferedImage image, long phash) {
    }

    private final class Outcome {
        int stored;
        int unchanged;
        final List<RejectedRecord> rejected = new ArrayList<>();
        final List<DuplicateRecord> duplicates = new ArrayList<>();
    }

    public Result ingest(List<AtlasRecord> records) {
        Outcome out = new Outcome();
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
                        if (c == Corpus.CORPUS_UNSPECIFIED || c == Corpus.UNRECOGNIZED || c == Corpus.GRAPH) {
                            throw new IllegalArgumentException("document corpus is missing or unknown (graph takes terms and relations)");
                        }
                        byCorpus.computeIfAbsent(c, k -> new ArrayList<>()).add(r);
                    }
                    case TERM, RELATION -> byCorpus.computeIfAbsent(Corpus.GRAPH, k -> new ArrayList<>()).add(r);
                    default -> throw new IllegalArgumentException("record has no report, document, term or relation");
                }
            } catch (IllegalArgumentException e) {
                out.rejected.add(reject(r, e));
            }
        }
        byModality.forEach((m, group) -> reports.write(m, lease -> {
            NearDuplicateIndex seen = maxDuplicateDistance < 0 ? null
                    : duplicates.computeIfAbsent(m, k -> loadHashes(lease.collection()));
            try {
                store(lease.collection(), group, seen, batch -> reportEntries(batch, lease.encoder()), out);
            } catch (RuntimeException e) {
                duplicates.remove(m); // hashes of records that were not stored: reload from the repository
                throw e;
            }
            return null;
        }));
        byCorpus.forEach((c, group) -> store(store.corpus(c), group, null, this::textEntries, out));
        if (!out.rejected.isEmpty()) {
            // ids and reasons only: record contents may be patient data
            Log.warnf("ingest rejected %d of %d records, first: %s (%s)", out.rejected.size(), records.size(),
                    out.rejected.get(0).getId(), out.rejected.get(0).getReason());
        }
        return new Result(out.stored, out.unchanged, out.rejected, out.duplicates);
    }

    /**
     * Skips unchanged records (before any decoding or embedding), validates, drops near-duplicate
     * images, embeds in batches, upserts.
     */
    private void store(VectorCollection target, List<AtlasRecord> group, NearDuplicateIndex seen,
            java.util.function.Function<List<Pending>, List<VectorCollection.Entry>> embed, Outcome out) {
        List<Pending> todo = new ArrayList<>();
        timed("validate", target, () -> {
            Map<String, String> stored = target.storedHashes(group.stream().map(AtlasRecord::getId).toList());
            for (AtlasRecord r : group) {
                if (hash(r).equals(stored.get(r.getId()))) {
                    out.unchanged++;
                    continue;
                }
                try {
                    Pending p = validate(r);
                    NearDuplicateIndex.Match dup = seen == null ? null : seen.find(r.getId(), p.phash());
                    if (dup != null) {
                        out.duplicates.add(DuplicateRecord.newBuilder().setId(r.getId()).setDuplicateOf(dup.id())
                                .setDistance(dup.distance()).build());
                        continue;
                    }
                    if (seen != null) {
                        seen.add(r.getId(), p.phash()); // also catches repeats within this batch
                    }
                    todo.add(p);
                } catch (IllegalArgumentException e) {
                    out.rejected.add(reject(r, e));
                }
            }
            return null;
        });
        List<VectorCollection.Entry> entries = new ArrayList<>();
        timed("embed", target, () -> {
            for (int i = 0; i < todo.size(); i += Models.BULK_BATCH) {
                entries.addAll(embed.apply(todo.subList(i, Math.min(todo.size(), i + Models.BULK_BATCH))));
            }
            return null;
        });
        if (!entries.isEmpty()) {
            timed("upsert", target, () -> {
                target.upsert(entries);
                return null;
            });
        }
        out.stored += todo.size();
        metrics.counter("heterorag_ingested_records", "collection", target.name()).increment(todo.size());
    }

    private <T> T timed(String stage, VectorCollection target, Supplier<T> body) {
        return Timer.builder("heterorag_ingest_stage").tag("stage", stage).tag("collection", target.name().replaceAll("@.*", ""))
                .register(metrics).record(body);
    }

    /** The repository's perceptual hashes, read once per process (computed for entries stored before hashing). */
    private NearDuplicateIndex loadHashes(VectorCollection repository) {
        NearDuplicateIndex index = new NearDuplicateIndex(maxDuplicateDistance);
        repository.forEach(e -> {
            String h = e.metadata().get("phash");
            index.add(e.id(), h != null ? Long.parseUnsignedLong(h, 16) : PerceptualHash.of(ImageDecoder.decode(e.blob(), "")));
        });
        Log.infof("%s: %d perceptual hashes loaded for near-duplicate checks", repository.name(), index.size());
        return index;
    }

    private static RejectedRecord reject(AtlasRecord r, IllegalArgumentException e) {
        return RejectedRecord.newBuilder().setId(r.getId()).setReason(e.getMessage()).build();
    }

    private static Pending validate(AtlasRecord r) {
        switch (r.getKindCase()) {
            case REPORT -> {
                ReportRecord rep = r.getReport();
                if (rep.getText().isBlank()) {
                    throw new IllegalArgumentException("report text is empty");
                }
                BufferedImage image = ImageDecoder.read(rep.getImage()).image();
                return new Pending(r, image, PerceptualHash.of(image));
            }
            case DOCUMENT -> require(!r.getDocument().getContent().isBlank(), "document content is empty");
            case TERM -> require(!r.getTerm().getTermId().isBlank() && !r.getTerm().getName().isBlank(), "term needs a term_id and a name");
            case RELATION -> require(!r.getRelation().getHeadId().isBlank() && !r.getRelation().getTailId().isBlank()
                    && !r.getRelation().getRelation().isBlank(), "relation needs a head_id, a relation and a tail_id");
            default -> throw new IllegalArgumentException("unknown record kind");
        }
        return new Pending(r, null, 0);
    }

    private static void require(boolean ok, String reason) {
        if (!ok) {
            throw new IllegalArgumentException(reason);
        }
    }

    private static List<VectorCollection.Entry> reportEntries(List<Pending> batch, ImageEncoder encoder) {
        float[][] vectors = encoder.embed(batch.stream().map(Pending::image).toList());
        List<VectorCollection.Entry> out = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
            AtlasRecord r = batch.get(i).record();
            ReportRecord rep = r.getReport();
            Map<String, String> meta = new LinkedHashMap<>(rep.getMetadataMap());
            meta.put("source", rep.getSource());
            meta.put("modality", rep.getModality().name().toLowerCase(java.util.Locale.ROOT));
            meta.put("phash", Long.toHexString(batch.get(i).phash()));
            out.add(new VectorCollection.Entry(r.getId(), r.getId(), hash(r), "", rep.getText(), vectors[i],
                    rep.getImage().getData().toByteArray(), meta));
        }
        return out;
    }

    /**
     * Entries of text records with the text each is embedded from: document chunks (with their title,
     * which carries the topic), graph terms (by name) and relations (by relation and tail, what a
     * "term,relation" query is ranked against).
     */
    private List<VectorCollection.Entry> textEntries(List<Pending> batch) {
        List<VectorCollection.Entry> out = new ArrayList<>();
        List<String> toEmbed = new ArrayList<>();
        for (Pending p : batch) {
            AtlasRecord r = p.record();
            switch (r.getKindCase()) {
                case DOCUMENT -> {
                    DocumentRecord doc = r.getDocument();
                    List<String> chunks = chunker.chunk(doc.getContent());
                    for (int c = 0; c < chunks.size(); c++) {
                        out.add(new VectorCollection.Entry(r.getId() + "#" + c, r.getId(), hash(r), doc.getTitle(), chunks.get(c),
                                null, null, Map.of("source", doc.getSource(), "document_id", r.getId(), "corpus",
                                        doc.getCorpus().name().toLowerCase(java.util.Locale.ROOT))));
                        toEmbed.add(doc.getTitle() + ". " + chunks.get(c));
                    }
                }
                case TERM -> {
                    GraphTermRecord t = r.getTerm();
                    out.add(new VectorCollection.Entry(r.getId(), r.getId(), hash(r), t.getName(), t.getDefinition(), null, null,
                            Map.of("source", t.getSource(), "kind", "term", "term_id", t.getTermId(), "corpus", "graph")));
                    toEmbed.add(t.getName());
                }
                case RELATION -> {
                    GraphRelationRecord rel = r.getRelation();
                    out.add(new VectorCollection.Entry(r.getId(), r.getId(), hash(r), rel.getHeadName(),
                            rel.getHeadName() + " " + rel.getRelation() + " " + rel.getTailName(), null, null,
                            Map.of("source", rel.getSource(), "kind", "relation", "head_id", rel.getHeadId(), "relation",
                                    rel.getRelation(), "tail_id", rel.getTailId(), "corpus", "graph")));
                    toEmbed.add(rel.getRelation() + " " + rel.getTailName());
                }
                default -> throw new IllegalStateException("not a text record: " + r.getKindCase());
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

package io.heterorag.retrieval.grpc;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import jakarta.inject.Inject;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.heterorag.guard.InputLimits;
import io.heterorag.proto.v1.AtlasRecord;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.EmbedRequest;
import io.heterorag.proto.v1.EmbedResponse;
import io.heterorag.proto.v1.Image;
import io.heterorag.proto.v1.GetStatsRequest;
import io.heterorag.proto.v1.GetStatsResponse;
import io.heterorag.proto.v1.IngestRequest;
import io.heterorag.proto.v1.IngestResponse;
import io.heterorag.proto.v1.KnowledgeHit;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.ReportHit;
import io.heterorag.proto.v1.RetrievalGrpc;
import io.heterorag.proto.v1.RetrieveReportsRequest;
import io.heterorag.proto.v1.RetrieveReportsResponse;
import io.heterorag.proto.v1.SearchCorpusRequest;
import io.heterorag.proto.v1.SearchCorpusResponse;
import io.heterorag.proto.v1.Vector;
import io.heterorag.retrieval.config.RetrievalConfig;
import io.heterorag.retrieval.ingest.AtlasIngestor;
import io.heterorag.model.image.ImageDecoder;
import io.heterorag.model.image.ImageEncoder;
import io.heterorag.retrieval.model.Models;
import io.heterorag.retrieval.store.AdaptiveK;
import io.heterorag.store.VectorCollection;
import io.heterorag.retrieval.search.CorpusSearch;
import io.heterorag.retrieval.store.ReportRepositories;
import io.heterorag.retrieval.store.TermGraph;
import io.heterorag.retrieval.store.VectorStore;
import io.quarkus.grpc.GrpcService;
import io.quarkus.logging.Log;
import io.smallrye.common.annotation.Blocking;

@GrpcService
@Blocking
public class RetrievalGrpcService extends RetrievalGrpc.RetrievalImplBase {

    static final int MAX_K = 100;
    static final int MAX_EMBED = 256;

    private final VectorStore store;
    private final ReportRepositories reports;
    private final Models models;
    private final AtlasIngestor ingestor;
    private final TermGraph graph;
    private final CorpusSearch corpusSearch;
    private final int defaultReportK;
    private final int defaultCorpusK;
    private final int candidates;
    private final double adaptiveRatio;
    private final int adaptiveMinK;

    // field bounds (docs/limits-and-faults.md); initialised for tests that build the service without CDI
    int maxQueryChars = 8192;
    int maxImageBytes = 16 * 1024 * 1024;
    int maxIngestRecords = 1000;
    int maxRecordChars = 1024 * 1024;
    /** Report texts are sent on to querygen: the same bound as its heterorag.querygen.max-report-chars. */
    int maxReportChars = 32768;
    int maxIdChars = 256;

    @Inject
    public RetrievalGrpcService(VectorStore store, ReportRepositories reports, Models models, AtlasIngestor ingestor, TermGraph graph,
            CorpusSearch corpusSearch, RetrievalConfig config) {
        this(store, reports, models, ingestor, graph, corpusSearch, config.retrieval().reportK(), config.retrieval().corpusK(),
                config.retrieval().reportCandidates(), config.retrieval().adaptiveK().ratio(), config.retrieval().adaptiveK().min());
        RetrievalConfig.Retrieval r = config.retrieval();
        if (r.candidates().isPresent()) {
            Log.warnf("heterorag.retrieval.candidates (%d) is deprecated: it sets both heterorag.retrieval.report-candidates (%d) "
                    + "and heterorag.retrieval.corpus-candidates (%d) where those are not given; set them instead",
                    r.candidates().get(), r.reportCandidates(), r.corpusCandidates());
        }
        maxQueryChars = r.maxQueryChars();
        maxImageBytes = r.maxImageBytes();
        maxIngestRecords = r.maxIngestRecords();
        maxRecordChars = r.maxRecordChars();
        maxReportChars = r.maxReportChars();
        maxIdChars = r.maxIdChars();
    }

    /** candidates: HNSW candidates explored per report retrieval. */
    public RetrievalGrpcService(VectorStore store, ReportRepositories reports, Models models, AtlasIngestor ingestor, TermGraph graph,
            CorpusSearch corpusSearch, int defaultReportK, int defaultCorpusK, int candidates, double adaptiveRatio, int adaptiveMinK) {
        this.store = store;
        this.reports = reports;
        this.models = models;
        this.ingestor = ingestor;
        this.graph = graph;
        this.corpusSearch = corpusSearch;
        this.defaultReportK = defaultReportK;
        this.defaultCorpusK = defaultCorpusK;
        this.candidates = candidates;
        this.adaptiveRatio = adaptiveRatio;
        this.adaptiveMinK = adaptiveMinK;
    }

    @Override
    public void retrieveReports(RetrieveReportsRequest req, StreamObserver<RetrieveReportsResponse> out) {
        respond(out, () -> {
            if (req.getModality() == Modality.UNRECOGNIZED) {
                throw invalid("unknown modality " + req.getModalityValue());
            }
            imageBytes("image", req.getImage());
            int k = k(req.getK(), defaultReportK);
            ImageDecoder.Decoded decoded = ImageDecoder.read(req.getImage());
            var image = decoded.image();
            // not given: the DICOM Modality tag decides, else radiology
            Modality m = req.getModality() != Modality.MODALITY_UNSPECIFIED ? req.getModality()
                    : decoded.modality() != Modality.MODALITY_UNSPECIFIED ? decoded.modality() : Modality.RADIOLOGY;
            RetrieveReportsResponse.Builder res = RetrieveReportsResponse.newBuilder().setModality(m);
            // encoder and index from one lease: a swap mid-request cannot mix them
            try (ReportRepositories.Lease repo = reports.lease(m)) {
                float[] v = repo.embed(image);
                res.setImageEncoder(repo.encoder().id());
                List<VectorCollection.Hit> hits = repo.collection().nearest(v, k, candidates, Map.of());
                int keep = req.getFixedK() ? hits.size()
                        : AdaptiveK.choose(hits.stream().map(VectorCollection.Hit::score).toList(), adaptiveRatio, adaptiveMinK);
                for (VectorCollection.Hit h : hits.subList(0, keep)) {
                    res.addReports(ReportHit.newBuilder().setId(h.id()).setScore(h.score()).setText(h.text())
                            .setSource(h.metadata().getOrDefault("source", "")).putAllMetadata(h.metadata()));
                }
                res.setChosenK(keep);
            }
            Log.debugf("retrieveReports modality=%s image_bytes=%d hits=%d", m, req.getImage().getData().size(), res.getReportsCount());
            return res.build();
        });
    }

    @Override
    public void searchCorpus(SearchCorpusRequest req, StreamObserver<SearchCorpusResponse> out) {
        respond(out, () -> {
            if (req.getCorpus() == Corpus.CORPUS_UNSPECIFIED || req.getCorpus() == Corpus.UNRECOGNIZED) {
                throw invalid("corpus is missing or unknown (" + req.getCorpusValue() + ")");
            }
            if (req.getQuery().isBlank()) {
                throw invalid("query is empty");
            }
            InputLimits.chars("query", req.getQuery(), maxQueryChars, "heterorag.retrieval.max-query-chars");
            int k = k(req.getK(), defaultCorpusK);
            SearchCorpusResponse.Builder res = SearchCorpusResponse.newBuilder().setTextEncoder(models.text().name())
                    .setRanking(corpusSearch.method());
            VectorCollection c = store.corpus(req.getCorpus());
            List<VectorCollection.Hit> hits = req.getCorpus() == Corpus.GRAPH ? graph.search(req.getQuery(), k)
                    : corpusSearch.search(c, req.getQuery(), req.getMode(), k);
            for (VectorCollection.Hit h : hits) {
                res.addHits(KnowledgeHit.newBuilder().setCorpus(req.getCorpus()).setId(h.id()).setScore(h.score())
                        .setTitle(h.title()).setText(h.text()).setQuery(req.getQuery()));
            }
            return res.build();
        });
    }

    @Override
    public void ingest(IngestRequest req, StreamObserver<IngestResponse> out) {
        respond(out, () -> {
            validate(req);
            AtlasIngestor.Result r = ingestor.ingest(req.getRecordsList());
            return IngestResponse.newBuilder().setStored(r.stored()).setUnchanged(r.unchanged())
                    .addAllRejected(r.rejected()).addAllDuplicates(r.duplicates()).build();
        });
    }

    @Override
    public void getStats(GetStatsRequest req, StreamObserver<GetStatsResponse> out) {
        respond(out, () -> GetStatsResponse.newBuilder().putAllEntries(reports.counts()).putAllEntries(store.counts()).build());
    }

    @Override
    public void embed(EmbedRequest req, StreamObserver<EmbedResponse> out) {
        respond(out, () -> {
            Modality m = req.getModality() == Modality.MODALITY_UNSPECIFIED ? Modality.RADIOLOGY : req.getModality();
            if (m == Modality.UNRECOGNIZED) {
                throw invalid("unknown modality " + req.getModalityValue());
            }
            if (req.getImagesCount() + req.getTextsCount() > MAX_EMBED) {
                throw invalid("at most " + MAX_EMBED + " images and texts per call");
            }
            InputLimits.eachChars("texts", req.getTextsList(), maxQueryChars, "heterorag.retrieval.max-query-chars");
            for (int i = 0; i < req.getImagesCount(); i++) {
                imageBytes("images[" + i + "]", req.getImages(i));
            }
            List<BufferedImage> images = new ArrayList<>();
            for (Image i : req.getImagesList()) {
                images.add(ImageDecoder.read(i).image());
            }
            try (ReportRepositories.Lease repo = reports.lease(m)) {
                ImageEncoder enc = repo.encoder();
                EmbedResponse.Builder res = EmbedResponse.newBuilder().setImageEncoder(enc.id());
                if (!images.isEmpty()) {
                    for (float[] v : enc.embed(images)) {
                        res.addImages(vector(v));
                    }
                }
                if (req.getTextsCount() > 0) {
                    if (!enc.hasTextTower()) {
                        throw Status.FAILED_PRECONDITION.withDescription("the serving image encoder " + enc.id()
                                + " has no text tower (train and promote a ModCLIP)").asRuntimeException();
                    }
                    if (!models.text().name().startsWith(enc.textBaseEncoder())) {
                        throw Status.FAILED_PRECONDITION.withDescription(enc.id() + " expects text embeddings of "
                                + enc.textBaseEncoder() + ", this service has " + models.text().name()).asRuntimeException();
                    }
                    for (float[] v : enc.embedTexts(models.text().embed(req.getTextsList()))) {
                        res.addTexts(vector(v));
                    }
                }
                return res.build();
            }
        });
    }

    private void imageBytes(String field, Image image) {
        if (image.getData().size() > maxImageBytes) {
            throw invalid(field + " has " + image.getData().size() + " bytes, above the limit of " + maxImageBytes
                    + " (heterorag.retrieval.max-image-bytes)");
        }
    }

    /** The batch and each record's fields, before any record is stored: one oversized record refuses the call. */
    private void validate(IngestRequest req) {
        InputLimits.count("records", req.getRecordsCount(), maxIngestRecords, "heterorag.retrieval.max-ingest-records");
        String key = "heterorag.retrieval.max-record-chars";
        for (int i = 0; i < req.getRecordsCount(); i++) {
            AtlasRecord r = req.getRecords(i);
            String at = "records[" + i + "].";
            InputLimits.chars(at + "id", r.getId(), maxIdChars, "heterorag.retrieval.max-id-chars");
            switch (r.getKindCase()) {
                case REPORT -> {
                    InputLimits.chars(at + "report.text", r.getReport().getText(), maxReportChars, "heterorag.retrieval.max-report-chars");
                    imageBytes(at + "report.image", r.getReport().getImage());
                    for (var m : r.getReport().getMetadataMap().entrySet()) {
                        InputLimits.chars(at + "report.metadata", m.getKey() + m.getValue(), maxIdChars * 16, "heterorag.retrieval.max-id-chars x 16");
                    }
                }
                case DOCUMENT -> {
                    InputLimits.chars(at + "document.title", r.getDocument().getTitle(), maxIdChars * 16, "heterorag.retrieval.max-id-chars x 16");
                    InputLimits.chars(at + "document.content", r.getDocument().getContent(), maxRecordChars, key);
                }
                case TERM -> {
                    InputLimits.chars(at + "term.name", r.getTerm().getName(), maxIdChars * 16, "heterorag.retrieval.max-id-chars x 16");
                    InputLimits.chars(at + "term.definition", r.getTerm().getDefinition(), maxRecordChars, key);
                }
                case RELATION -> InputLimits.chars(at + "relation", r.getRelation().getHeadName() + r.getRelation().getRelation()
                        + r.getRelation().getTailName(), maxIdChars * 16, "heterorag.retrieval.max-id-chars x 16");
                default -> {
                }
            }
        }
    }

    private static Vector vector(float[] v) {
        Vector.Builder b = Vector.newBuilder();
        for (float x : v) {
            b.addValues(x);
        }
        return b.build();
    }

    private static int k(int requested, int fallback) {
        if (requested < 0) {
            throw invalid("k must not be negative");
        }
        return Math.min(requested == 0 ? fallback : requested, MAX_K);
    }

    private static StatusRuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }

    /** Runs a unary call, turning bad input into INVALID_ARGUMENT and anything else into INTERNAL. */
    private static <T> void respond(StreamObserver<T> out, Supplier<T> call) {
        T result;
        try {
            result = call.get();
        } catch (StatusRuntimeException e) {
            out.onError(e);
            return;
        } catch (IllegalArgumentException e) {
            out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
            return;
        } catch (RuntimeException e) {
            // the exception goes to the log under an error id (ErrorShield); the caller gets INTERNAL and the id
            out.onError(Status.INTERNAL.withCause(e).withDescription("retrieval failed").asRuntimeException());
            return;
        }
        out.onNext(result);
        out.onCompleted();
    }
}

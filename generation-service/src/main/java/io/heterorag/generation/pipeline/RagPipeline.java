package io.heterorag.generation.pipeline;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

import com.google.common.util.concurrent.ListenableFuture;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.heterorag.generation.answer.Answerer;
import io.heterorag.generation.config.GenerationConfig;
import io.heterorag.generation.answer.ServedAnswerer;
import io.heterorag.generation.trace.TracePublisher;
import io.heterorag.guard.InputLimits;
import io.heterorag.model.generation.ServedModel;
import io.heterorag.proto.v1.AnswerOptions;
import io.heterorag.proto.v1.AnswerRequest;
import io.heterorag.proto.v1.AnswerResponse;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.CorpusQuery;
import io.heterorag.proto.v1.Degradation;
import io.heterorag.proto.v1.EvidenceRef;
import io.heterorag.proto.v1.Evidence;
import io.heterorag.proto.v1.GenerateQueriesRequest;
import io.heterorag.proto.v1.GenerateQueriesResponse;
import io.heterorag.proto.v1.KnowledgeHit;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.ModelVersions;
import io.heterorag.proto.v1.QueryGenGrpc;
import io.heterorag.proto.v1.ReportHit;
import io.heterorag.proto.v1.RetrievalGrpc;
import io.heterorag.proto.v1.RetrieveReportsRequest;
import io.heterorag.proto.v1.RetrieveReportsResponse;
import io.heterorag.proto.v1.SearchCorpusRequest;
import io.heterorag.proto.v1.SearchCorpusResponse;
import io.heterorag.proto.v1.StageLatency;
import io.heterorag.proto.v1.Task;
import io.heterorag.proto.v1.Trace;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.grpc.GrpcClient;

/**
 * The method's inference pipeline, one request at a time: reports for the image (ModCLIP of the
 * modality) → queries per corpus (MQG) → knowledge per query, all corpora searched at once (top-k kept)
 * → answer (the served {@link Answerer}). Each call runs under the request's deadline and its own
 * budget; the idempotent ones (reports, queries, searches) are retried on UNAVAILABLE within a small
 * per-request budget. A failing report repository, querygen or corpus degrades the answer instead of
 * failing it: the answer is made from what worked and the response and trace name each degraded stage
 * (querygen down: every corpus is searched with the question itself). Bad input (INVALID_ARGUMENT and
 * the like from a dependency) and the answer stage still fail the request, with a status naming the
 * stage. At most {@code max-in-flight} requests run at once; beyond, RESOURCE_EXHAUSTED at once.
 * Every answered request is published as a trace; an evidence-only request ends after the knowledge
 * stage, without an answer or a trace. Limits: docs/limits-and-faults.md.
 */
@ApplicationScoped
public class RagPipeline {

    private final RetrievalGrpc.RetrievalBlockingStub retrieval;
    private final QueryGenGrpc.QueryGenBlockingStub querygen;
    private final TracePublisher traces;
    private final MeterRegistry metrics;
    private final ServedAnswerer answerers;

    // heterorag.generation.* (GenerationConfig), set by configure(); tests that build the pipeline without CDI set them
    long defaultDeadlineMs;
    long stageDeadlineMs;
    int maxImageBytes;
    int knowledgeCandidates;
    int knowledgePerQuery;
    // initialised too, for tests that build the pipeline without CDI
    int maxQuestionChars = 8192;
    int maxRequestIdChars = 128;
    int maxReportK = 64;
    long maxDeadlineMs = 600_000;
    /** Requests answered at once by this pod; beyond, RESOURCE_EXHAUSTED at once rather than a queue that ends in timeouts. */
    int maxInFlight = 32;
    /** Retries of idempotent calls on UNAVAILABLE, for the whole request (not per call). */
    int retryBudget = 3;
    long retryBackoffMs = 50;

    private Semaphore inFlight;

    public RagPipeline(@GrpcClient("retrieval") RetrievalGrpc.RetrievalBlockingStub retrieval,
            @GrpcClient("querygen") QueryGenGrpc.QueryGenBlockingStub querygen, TracePublisher traces, MeterRegistry metrics,
            ServedAnswerer answerers) {
        this.retrieval = retrieval;
        this.querygen = querygen;
        this.traces = traces;
        this.metrics = metrics;
        this.answerers = answerers;
    }

    @Inject
    void configure(GenerationConfig config) {
        GenerationConfig.Generation g = config.generation();
        defaultDeadlineMs = g.defaultDeadlineMs();
        stageDeadlineMs = g.stageDeadlineMs();
        maxImageBytes = g.maxImageBytes();
        knowledgeCandidates = g.knowledgeCandidates();
        knowledgePerQuery = g.knowledgePerQuery();
        maxQuestionChars = g.maxQuestionChars();
        maxRequestIdChars = g.maxRequestIdChars();
        maxReportK = g.maxReportK();
        maxDeadlineMs = g.maxDeadlineMs();
        maxInFlight = g.maxInFlight();
        retryBudget = g.retryBudget();
        retryBackoffMs = g.retryBackoffMs();
    }

    /**
     * Answers; {@code onEvidence} gets the evidence once the knowledge stage is done, {@code onSegment}
     * the answer's segments as the answerer produces them. Throws StatusRuntimeException with a
     * message for bad input and for failed stages.
     */
    public AnswerResponse run(AnswerRequest req, Consumer<Evidence> onEvidence, Consumer<Answerer.Segment> onSegment) {
        validate(req);
        Semaphore slots = inFlight();
        if (!slots.tryAcquire()) {
            Counter.builder("heterorag_overload_rejections_total").register(metrics).increment();
            throw Status.RESOURCE_EXHAUSTED.withDescription("overloaded: " + maxInFlight
                    + " requests in flight on this pod (heterorag.generation.max-in-flight); retry later or elsewhere").asRuntimeException();
        }
        // the answerer this request started with serves it to the end, even if another is swapped in meanwhile
        try (ServedModel.Lease<Answerer> lease = answerers.acquire()) {
            return run(req, lease.model(), onEvidence, onSegment);
        } finally {
            slots.release();
        }
    }

    private synchronized Semaphore inFlight() {
        if (inFlight == null) {
            inFlight = new Semaphore(Math.max(1, maxInFlight));
        }
        return inFlight;
    }

    /** Requests being answered now (for readiness and tests). */
    public int inFlightNow() {
        return Math.max(1, maxInFlight) - inFlight().availablePermits();
    }

    private AnswerResponse run(AnswerRequest req, Answerer answerer, Consumer<Evidence> onEvidence,
            Consumer<Answerer.Segment> onSegment) {
        long started = System.nanoTime();
        Deadline deadline = deadline(req);
        Modality requested = req.getModality();
        Task task = req.getTask() == Task.TASK_UNSPECIFIED ? Task.OPEN_VQA : req.getTask();
        List<StageLatency> latencies = new ArrayList<>();
        ModelVersions.Builder models = ModelVersions.newBuilder().setAnswerer(answerer.id());

        List<Degradation> degraded = new ArrayList<>();
        AtomicInteger retries = new AtomicInteger(retryBudget);

        RetrieveReportsResponse r = req.getOptions().getSkipReports() ? RetrieveReportsResponse.getDefaultInstance()
                : degradable("reports", latencies, deadline, degraded, RetrieveReportsResponse.getDefaultInstance(),
                        () -> retrying(retries, deadline, () -> retrieval.withDeadline(stageDeadline(deadline))
                                .retrieveReports(RetrieveReportsRequest.newBuilder().setImage(req.getImage()).setModality(requested)
                                        .setK(req.getOptions().getReportK()).build())));
        List<ReportHit> reports = r.getReportsList();
        // retrieval resolves an unspecified modality (DICOM tag, else radiology)
        Modality modality = r.getModality() != Modality.MODALITY_UNSPECIFIED ? r.getModality()
                : requested != Modality.MODALITY_UNSPECIFIED ? requested : Modality.RADIOLOGY;
        models.setImageEncoder(r.getImageEncoder());
        List<String> reportTexts = reports.stream().map(ReportHit::getText).toList();
        boolean skipKnowledge = req.getOptions().getSkipKnowledge();
        GenerateQueriesResponse q = skipKnowledge ? GenerateQueriesResponse.getDefaultInstance()
                : degradable("queries", latencies, deadline, degraded, questionAsQueries(req),
                        () -> retrying(retries, deadline, () -> querygen.withDeadline(stageDeadline(deadline))
                                .generateQueries(GenerateQueriesRequest.newBuilder().setQuestion(req.getQuestion()).setModality(modality)
                                        .setTask(task).addAllReportTexts(reportTexts).addAllCorpora(req.getOptions().getCorporaList())
                                        .setImage(req.getImage()).build())));
        models.setQueryGenerator(q.getGenerator());

        List<KnowledgeHit> knowledge = skipKnowledge ? List.of()
                : stage("knowledge", latencies, deadline, () -> knowledge(q.getQueriesList(), deadline, retries, models, degraded));
        onEvidence.accept(Evidence.newBuilder().addAllReports(reports).addAllKnowledge(knowledge)
                .addAllQueries(q.getQueriesList()).build());

        AnswerResponse.Builder response = AnswerResponse.newBuilder().addAllReports(reports).addAllKnowledge(knowledge)
                .addAllQueries(q.getQueriesList()).setModels(models).setModality(modality).setReportsChosenK(r.getChosenK())
                .addAllDegraded(degraded).addAllSkippedCorpora(q.getSkippedCorporaList());
        if (req.getOptions().getEvidenceOnly()) {
            // no answer is written, so there is nothing to trace
            latencies.add(StageLatency.newBuilder().setStage("total").setMillis((System.nanoTime() - started) / 1e6).build());
            return response.addAllLatencies(latencies).build();
        }

        Answerer.Question question = new Answerer.Question(task, req.getQuestion(), req.getOptions(), req.getImage(), reports, knowledge);
        Answerer.Answer answer = stage("answer", latencies, deadline, () -> answerer.answer(question, deadline, onSegment));
        latencies.add(StageLatency.newBuilder().setStage("total").setMillis((System.nanoTime() - started) / 1e6).build());

        response.setTraceId(UUID.randomUUID().toString()).setAnswer(answer.text()).addAllCandidates(answer.candidates())
                .addAllLatencies(latencies).setEvidenceDropped(answer.evidenceDropped()).setFinishReason(answer.finishReason())
                .setPromptTokens(answer.promptTokens()).setGeneratedTokens(answer.generatedTokens());
        AnswerResponse done = response.build();
        traces.publish(trace(req, done, task));
        return done;
    }

    private void validate(AnswerRequest req) {
        // sizes first: nothing below (and no dependency) works on an oversized field
        InputLimits.chars("question", req.getQuestion(), maxQuestionChars, "heterorag.generation.max-question-chars");
        InputLimits.chars("request_id", req.getRequestId(), maxRequestIdChars, "heterorag.generation.max-request-id-chars");
        InputLimits.range("options.report_k", req.getOptions().getReportK(), maxReportK, "heterorag.generation.max-report-k");
        InputLimits.range("options.deadline_ms", Integer.toUnsignedLong(req.getOptions().getDeadlineMs()), maxDeadlineMs, "heterorag.generation.max-deadline-ms");
        InputLimits.count("options.corpora", req.getOptions().getCorporaCount(), Corpus.values().length - 2, "the number of corpora");
        if (req.getModality() == Modality.UNRECOGNIZED) {
            throw invalid("unknown modality " + req.getModalityValue());
        }
        if (req.getTask() == Task.UNRECOGNIZED) {
            throw invalid("unknown task " + req.getTaskValue());
        }
        for (Corpus c : req.getOptions().getCorporaList()) {
            if (c == Corpus.CORPUS_UNSPECIFIED || c == Corpus.UNRECOGNIZED) {
                throw invalid("unknown corpus in options.corpora");
            }
        }
        if (req.getOptions().getReportK() < 0) {
            throw invalid("options.report_k must not be negative");
        }
        if (!req.getOptions().getSkipReports() && req.getImage().getData().isEmpty()) {
            throw invalid("image is empty (set options.skip_reports to answer without an image)");
        }
        if (req.getImage().getData().size() > maxImageBytes) {
            throw Status.RESOURCE_EXHAUSTED.withDescription("image of " + req.getImage().getData().size()
                    + " bytes exceeds the limit of " + maxImageBytes + " bytes").asRuntimeException();
        }
        if (req.getTask() != Task.REPORT_GENERATION && req.getQuestion().isBlank()) {
            throw invalid("question is empty (required for VQA tasks)");
        }
        validateGeneration(req.getOptions());
    }

    /** The generation options' ranges (proto AnswerOptions); checked whichever answerer serves, so a request is valid everywhere. */
    private static void validateGeneration(AnswerOptions o) {
        long maxNewTokens = Integer.toUnsignedLong(o.getMaxNewTokens());
        if (maxNewTokens > 1024) {
            throw invalid("options.max_new_tokens must be in 0..1024 (0: the generator's default), not " + maxNewTokens);
        }
        if (!(o.getTemperature() >= 0 && o.getTemperature() <= 2)) {
            throw invalid("options.temperature must be in 0..2 (0: greedy), not " + o.getTemperature());
        }
        if (!(o.getTopP() >= 0 && o.getTopP() <= 1)) {
            throw invalid("options.top_p must be in 0..1 (0: off), not " + o.getTopP());
        }
        long topK = Integer.toUnsignedLong(o.getTopK());
        if (topK > 1000) {
            throw invalid("options.top_k must be in 0..1000 (0: off), not " + topK);
        }
        float penalty = o.getRepetitionPenalty();
        if (!(penalty == 0 || penalty >= 1 && penalty <= 2)) {
            throw invalid("options.repetition_penalty must be 0 (the generator's default) or in 1..2, not " + penalty);
        }
        checkStrings("options.stop", o.getStopList(), 4);
        checkStrings("options.closed_answers", o.getClosedAnswersList(), 32);
        if (o.getClosedAnswersList().stream().anyMatch(String::isBlank)) {
            throw invalid("options.closed_answers: an answer must not be blank");
        }
    }

    private static void checkStrings(String field, List<String> values, int most) {
        if (values.size() > most) {
            throw invalid(field + " takes at most " + most + " strings, not " + values.size());
        }
        for (String v : values) {
            if (v.isEmpty() || v.length() > 64) {
                throw invalid(field + ": each string must have 1..64 characters, not " + v.length());
            }
        }
    }

    private Deadline deadline(AnswerRequest req) {
        long ms = req.getOptions().getDeadlineMs() > 0 ? req.getOptions().getDeadlineMs() : defaultDeadlineMs;
        Deadline own = Deadline.after(ms, TimeUnit.MILLISECONDS);
        Deadline callers = Context.current().getDeadline();
        return callers != null && callers.isBefore(own) ? callers : own;
    }

    private Deadline stageDeadline(Deadline overall) {
        Deadline stage = Deadline.after(stageDeadlineMs, TimeUnit.MILLISECONDS);
        return stage.isBefore(overall) ? stage : overall;
    }

    private <T> T stage(String name, List<StageLatency> latencies, Deadline deadline, Supplier<T> body) {
        if (deadline.isExpired()) {
            throw Status.DEADLINE_EXCEEDED.withDescription("stage " + name + ": the request's deadline passed before it started")
                    .asRuntimeException();
        }
        long t0 = System.nanoTime();
        try {
            T result = body.get();
            long nanos = System.nanoTime() - t0;
            latencies.add(StageLatency.newBuilder().setStage(name).setMillis(nanos / 1e6).build());
            Timer.builder("heterorag_stage_seconds").tag("stage", name).register(metrics).record(nanos, TimeUnit.NANOSECONDS);
            return result;
        } catch (StatusRuntimeException e) {
            Status s = e.getStatus();
            String why = s.getDescription() == null ? s.getCode().toString() : s.getDescription();
            throw s.withDescription("stage " + name + ": " + why).asRuntimeException();
        }
    }

    /** Statuses that are the caller's doing: those fail the request; any other failure of a dependency degrades it. */
    private static final Set<Status.Code> CALLERS_FAULT = Set.of(Status.Code.INVALID_ARGUMENT, Status.Code.FAILED_PRECONDITION,
            Status.Code.OUT_OF_RANGE, Status.Code.NOT_FOUND, Status.Code.PERMISSION_DENIED, Status.Code.UNAUTHENTICATED);

    /** A stage whose failure is survivable: its fallback is used and the failure recorded in {@code degraded}. */
    private <T> T degradable(String name, List<StageLatency> latencies, Deadline deadline, List<Degradation> degraded, T fallback,
            Supplier<T> body) {
        try {
            return stage(name, latencies, deadline, body);
        } catch (StatusRuntimeException e) {
            if (CALLERS_FAULT.contains(e.getStatus().getCode()) || deadline.isExpired()) {
                throw e; // bad input is the caller's to fix; with no time left there is no answer to save
            }
            Status s = e.getStatus();
            String own = "stage " + name + ": "; // stage() named it; the Degradation names it once, in its stage field
            degraded.add(degradation(name, s.getDescription() != null && s.getDescription().startsWith(own)
                    ? s.withDescription(s.getDescription().substring(own.length())) : s));
            return fallback;
        }
    }

    private Degradation degradation(String stage, Status s) {
        Counter.builder("heterorag_degraded_total").tag("stage", stage.replaceFirst(":.*", "")).register(metrics).increment();
        String why = s.getDescription() == null ? "" : ": " + s.getDescription();
        // descriptions are our services' own (their ErrorShield keeps internals out); bounded so a trace stays small
        String reason = s.getCode() + (why.length() > 200 ? why.substring(0, 200) + "…" : why);
        return Degradation.newBuilder().setStage(stage).setReason(reason).build();
    }

    /** Querygen down: every asked corpus (else every corpus) is searched with the question itself. */
    private static GenerateQueriesResponse questionAsQueries(AnswerRequest req) {
        List<Corpus> corpora = req.getOptions().getCorporaCount() > 0 ? req.getOptions().getCorporaList()
                : java.util.Arrays.stream(Corpus.values()).filter(c -> c != Corpus.CORPUS_UNSPECIFIED && c != Corpus.UNRECOGNIZED).toList();
        GenerateQueriesResponse.Builder b = GenerateQueriesResponse.newBuilder().setGenerator("fallback:question");
        corpora.stream().distinct().forEach(c -> b.addQueries(CorpusQuery.newBuilder().setCorpus(c).setText(req.getQuestion())));
        return b.build();
    }

    /**
     * All corpus searches at once (future stubs on the blocking stub's channel), each under its own deadline
     * and retried on UNAVAILABLE; a corpus whose search fails is recorded in {@code degraded} and left out.
     * Hits are then taken in query order, as a sequential search would.
     */
    private List<KnowledgeHit> knowledge(List<CorpusQuery> queries, Deadline deadline, AtomicInteger retries, ModelVersions.Builder models,
            List<Degradation> degraded) {
        RetrievalGrpc.RetrievalFutureStub async = RetrievalGrpc.newFutureStub(retrieval.getChannel());
        List<Function<Integer, ListenableFuture<SearchCorpusResponse>>> calls = new ArrayList<>();
        List<ListenableFuture<SearchCorpusResponse>> futures = new ArrayList<>();
        for (CorpusQuery cq : queries) {
            SearchCorpusRequest sr = SearchCorpusRequest.newBuilder().setCorpus(cq.getCorpus()).setQuery(cq.getText()).setK(knowledgeCandidates).build();
            Function<Integer, ListenableFuture<SearchCorpusResponse>> call = attempt -> async.withDeadline(stageDeadline(deadline)).searchCorpus(sr);
            calls.add(call);
            futures.add(call.apply(0));
        }
        Map<Corpus, Degradation> failed = new LinkedHashMap<>();
        List<KnowledgeHit> hits = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < queries.size(); i++) {
            Corpus corpus = queries.get(i).getCorpus();
            SearchCorpusResponse res;
            try {
                res = awaitRetrying(futures.get(i), calls.get(i), retries, deadline);
            } catch (StatusRuntimeException e) {
                if (CALLERS_FAULT.contains(e.getStatus().getCode())) {
                    futures.forEach(f -> f.cancel(true));
                    throw e;
                }
                failed.putIfAbsent(corpus, degradation("knowledge:" + corpus.name(), e.getStatus()));
                continue;
            }
            models.setTextEncoder(res.getTextEncoder());
            // one chunk per document ("ID#CHUNK"): a second chunk of the same document adds no new candidate
            res.getHitsList().stream().filter(h -> seen.add(h.getCorpus() + "\u0000" + h.getId().replaceFirst("#\\d+$", "")))
                    .limit(knowledgePerQuery).forEach(hits::add);
        }
        degraded.addAll(failed.values());
        return hits;
    }

    private SearchCorpusResponse awaitRetrying(ListenableFuture<SearchCorpusResponse> first,
            Function<Integer, ListenableFuture<SearchCorpusResponse>> call, AtomicInteger retries, Deadline deadline) {
        ListenableFuture<SearchCorpusResponse> f = first;
        for (int attempt = 1;; attempt++) {
            try {
                return f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
            } catch (ExecutionException e) {
                Status s = Status.fromThrowable(e.getCause());
                if (!mayRetry(s, retries, deadline)) {
                    throw s.asRuntimeException();
                }
                f = call.apply(attempt);
            }
        }
    }

    /** An idempotent call, retried on UNAVAILABLE while the request's retry budget and deadline allow. */
    private <T> T retrying(AtomicInteger retries, Deadline deadline, Supplier<T> call) {
        while (true) {
            try {
                return call.get();
            } catch (StatusRuntimeException e) {
                if (!mayRetry(e.getStatus(), retries, deadline)) {
                    throw e;
                }
            }
        }
    }

    private boolean mayRetry(Status s, AtomicInteger retries, Deadline deadline) {
        if (s.getCode() != Status.Code.UNAVAILABLE || deadline.timeRemaining(TimeUnit.MILLISECONDS) <= retryBackoffMs
                || retries.getAndDecrement() <= 0) {
            return false;
        }
        Counter.builder("heterorag_retries_total").register(metrics).increment();
        try {
            Thread.sleep(retryBackoffMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        return true;
    }

    private static Trace trace(AnswerRequest req, AnswerResponse res, Task task) {
        byte[] image = req.getImage().getData().toByteArray();
        Trace.Builder t = Trace.newBuilder().setTraceId(res.getTraceId()).setRequestId(req.getRequestId())
                .setCreatedAtMs(System.currentTimeMillis()).setModality(res.getModality()).setTask(task)
                .setQuestion(req.getQuestion()).setImageSha256(image.length == 0 ? "" : sha256(image)).setImageBytes(image.length)
                .addAllQueries(res.getQueriesList()).setAnswer(res.getAnswer()).addAllCandidates(res.getCandidatesList())
                .addAllLatencies(res.getLatenciesList()).setModels(res.getModels()).addAllDegraded(res.getDegradedList())
                .addAllSkippedCorpora(res.getSkippedCorporaList());
        res.getReportsList().forEach(r -> t.addReports(EvidenceRef.newBuilder().setId(r.getId()).setScore(r.getScore())));
        res.getKnowledgeList().forEach(k -> t.addKnowledge(EvidenceRef.newBuilder().setId(k.getId()).setScore(k.getScore())
                .setCorpus(k.getCorpus())));
        return t.build();
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static StatusRuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }
}

package io.heterorag.tuning.grpc;

import java.util.List;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.heterorag.guard.InputLimits;
import io.grpc.stub.StreamObserver;
import io.heterorag.proto.v1.Feedback;
import io.heterorag.proto.v1.GetJobRequest;
import io.heterorag.proto.v1.GetTraceRequest;
import io.heterorag.proto.v1.ListJobsRequest;
import io.heterorag.proto.v1.ListJobsResponse;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.Job;
import io.heterorag.proto.v1.ListFeedbackRequest;
import io.heterorag.proto.v1.ListFeedbackResponse;
import io.heterorag.proto.v1.ListModelsRequest;
import io.heterorag.proto.v1.ListModelsResponse;
import io.heterorag.proto.v1.ListPreferencePairsRequest;
import io.heterorag.proto.v1.ListPreferencePairsResponse;
import io.heterorag.proto.v1.ListTracesRequest;
import io.heterorag.proto.v1.ListTracesResponse;
import io.heterorag.proto.v1.StartJobRequest;
import io.heterorag.proto.v1.SubmitFeedbackResponse;
import io.heterorag.proto.v1.Trace;
import io.heterorag.proto.v1.TuningGrpc;
import io.heterorag.proto.v1.PreferencePair;
import io.heterorag.tuning.preference.FeedbackPairs;
import io.heterorag.tuning.preference.PairKinds;
import io.heterorag.tuning.preference.PairPages;
import io.heterorag.tuning.store.TuningStore;
import io.heterorag.tuning.training.JobRunner;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;

@GrpcService
@Blocking
public class TuningGrpcService extends TuningGrpc.TuningImplBase {

    static final int DEFAULT_PAGE = 50;
    static final int MAX_PAGE = 1000;

    // field bounds, fixed (docs/limits-and-faults.md): ids, free texts of feedback, job parameters
    static final int MAX_ID_CHARS = 256;
    static final int MAX_TEXT_CHARS = 16384;
    private static final String FIXED = "a fixed limit";

    private final TuningStore store;
    private final JobRunner jobs;

    public TuningGrpcService(TuningStore store, JobRunner jobs) {
        this.store = store;
        this.jobs = jobs;
    }

    @Override
    public void listTraces(ListTracesRequest req, StreamObserver<ListTracesResponse> out) {
        if (req.getPageSize() < 0) {
            invalid(out, "page_size must not be negative");
            return;
        }
        out.onNext(ListTracesResponse.newBuilder().addAllTraces(store.traces(page(req.getPageSize()), req.getBeforeMs()))
                .setTotal(store.count("traces")).build());
        out.onCompleted();
    }

    @Override
    public void getTrace(GetTraceRequest req, StreamObserver<Trace> out) {
        if (req.getTraceId().isBlank()) {
            invalid(out, "trace_id is empty");
            return;
        }
        store.trace(req.getTraceId()).ifPresentOrElse(t -> {
            out.onNext(t);
            out.onCompleted();
        }, () -> out.onError(Status.NOT_FOUND.withDescription("no trace " + req.getTraceId()).asRuntimeException()));
    }

    @Override
    public void submitFeedback(Feedback req, StreamObserver<SubmitFeedbackResponse> out) {
        try {
            InputLimits.chars("feedback_id", req.getFeedbackId(), MAX_ID_CHARS, FIXED);
            InputLimits.chars("trace_id", req.getTraceId(), MAX_ID_CHARS, FIXED);
            InputLimits.chars("correct_answer", req.getCorrectAnswer(), MAX_TEXT_CHARS, FIXED);
            InputLimits.chars("comment", req.getComment(), MAX_TEXT_CHARS, FIXED);
        } catch (StatusRuntimeException e) {
            out.onError(e);
            return;
        }
        if (req.getFeedbackId().isBlank() || req.getTraceId().isBlank()) {
            invalid(out, "feedback_id and trace_id are required");
            return;
        }
        if (req.getRating() < -1 || req.getRating() > 1) {
            invalid(out, "rating must be -1, 0 or 1");
            return;
        }
        Feedback f = req.getCreatedAtMs() == 0 ? req.toBuilder().setCreatedAtMs(System.currentTimeMillis()).build() : req;
        boolean stored = store.addFeedback(f);
        if (stored) {
            // a corrected answer on a stored trace is a preference pair (chosen: the correction)
            store.trace(f.getTraceId()).flatMap(t -> FeedbackPairs.pair(t, f)).ifPresent(store::putPair);
        }
        out.onNext(SubmitFeedbackResponse.newBuilder().setStored(stored).build());
        out.onCompleted();
    }

    @Override
    public void listFeedback(ListFeedbackRequest req, StreamObserver<ListFeedbackResponse> out) {
        if (req.getPageSize() < 0) {
            invalid(out, "page_size must not be negative");
            return;
        }
        out.onNext(ListFeedbackResponse.newBuilder().addAllFeedback(store.feedback(req.getTraceId(), page(req.getPageSize())))
                .setTotal(store.count("feedback")).build());
        out.onCompleted();
    }

    @Override
    public void listPreferencePairs(ListPreferencePairsRequest req, StreamObserver<ListPreferencePairsResponse> out) {
        if (req.getPageSize() < 0) {
            invalid(out, "page_size must not be negative");
            return;
        }
        if (!req.getKind().isEmpty() && !PairKinds.ALL.contains(req.getKind())) {
            invalid(out, "kind must be empty or one of " + PairKinds.ALL + ", not '" + req.getKind() + "'");
            return;
        }
        TuningStore.PairCursor after;
        try {
            after = PairPages.cursor(req.getPageToken());
        } catch (IllegalArgumentException e) {
            invalid(out, e.getMessage());
            return;
        }
        int size = page(req.getPageSize());
        // one more than the page: whether a next page exists
        List<PreferencePair> rows = store.pairs(req.getKind(), after, size + 1);
        List<PreferencePair> pairs = rows.subList(0, Math.min(size, rows.size()));
        ListPreferencePairsResponse.Builder r = ListPreferencePairsResponse.newBuilder().addAllPairs(pairs)
                .setTotal(store.countPairs(req.getKind()));
        if (rows.size() > size) {
            r.setNextPageToken(PairPages.token(pairs.get(pairs.size() - 1)));
        }
        out.onNext(r.build());
        out.onCompleted();
    }

    @Override
    public void startJob(StartJobRequest req, StreamObserver<Job> out) {
        Job job;
        try {
            InputLimits.chars("kind", req.getKind(), MAX_ID_CHARS, FIXED);
            InputLimits.count("parameters", req.getParametersCount(), 64, FIXED);
            for (var p : req.getParametersMap().entrySet()) {
                InputLimits.chars("parameters key", p.getKey(), MAX_ID_CHARS, FIXED);
                InputLimits.chars("parameters[" + (p.getKey().length() > 64 ? p.getKey().substring(0, 64) : p.getKey()) + "]", p.getValue(),
                        MAX_ID_CHARS * 4, FIXED);
            }
        } catch (StatusRuntimeException e) {
            out.onError(e);
            return;
        }
        try {
            job = jobs.start(req);
        } catch (IllegalArgumentException e) {
            invalid(out, e.getMessage());
            return;
        }
        out.onNext(job);
        out.onCompleted();
    }

    @Override
    public void getJob(GetJobRequest req, StreamObserver<Job> out) {
        store.job(req.getJobId()).ifPresentOrElse(j -> {
            out.onNext(j);
            out.onCompleted();
        }, () -> out.onError(Status.NOT_FOUND.withDescription("no job " + req.getJobId()).asRuntimeException()));
    }

    @Override
    public void listJobs(ListJobsRequest req, StreamObserver<ListJobsResponse> out) {
        if (req.getPageSize() < 0) {
            invalid(out, "page_size must not be negative");
            return;
        }
        out.onNext(ListJobsResponse.newBuilder().addAllJobs(store.jobs(page(req.getPageSize()))).build());
        out.onCompleted();
    }

    @Override
    public void listModels(ListModelsRequest req, StreamObserver<ListModelsResponse> out) {
        out.onNext(ListModelsResponse.newBuilder().addAllModels(store.models(Modality.MODALITY_UNSPECIFIED)).build());
        out.onCompleted();
    }

    private static int page(int requested) {
        return Math.min(requested == 0 ? DEFAULT_PAGE : requested, MAX_PAGE);
    }

    private static void invalid(StreamObserver<?> out, String message) {
        out.onError(Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException());
    }
}

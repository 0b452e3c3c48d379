package io.heterorag.querygen.grpc;

import java.util.EnumSet;
import java.util.Set;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.heterorag.guard.InputLimits;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.GenerateQueriesRequest;
import io.heterorag.proto.v1.GenerateQueriesResponse;
import io.heterorag.proto.v1.QueryGenGrpc;
import io.heterorag.querygen.config.QueryGenConfig;
import io.heterorag.querygen.generator.ServedQueryWriter;
import io.quarkus.grpc.GrpcService;
import io.quarkus.logging.Log;
import io.smallrye.common.annotation.Blocking;

@GrpcService
@Blocking
public class QueryGenGrpcService extends QueryGenGrpc.QueryGenImplBase {

    private final ServedQueryWriter writer;
    private final int maxQuestionChars;
    private final int maxReportTexts;
    private final int maxReportChars;

    public QueryGenGrpcService(ServedQueryWriter writer, QueryGenConfig config) {
        this.writer = writer;
        this.maxQuestionChars = config.querygen().maxQuestionChars();
        this.maxReportTexts = config.querygen().maxReportTexts();
        this.maxReportChars = config.querygen().maxReportChars();
    }

    @Override
    public void generateQueries(GenerateQueriesRequest req, StreamObserver<GenerateQueriesResponse> out) {
        try {
            // sizes before any work (a 25 MB question once ended in OutOfMemoryError here)
            InputLimits.chars("question", req.getQuestion(), maxQuestionChars, "heterorag.querygen.max-question-chars");
            InputLimits.count("report_texts", req.getReportTextsCount(), maxReportTexts, "heterorag.querygen.max-report-texts");
            InputLimits.eachChars("report_texts", req.getReportTextsList(), maxReportChars, "heterorag.querygen.max-report-chars");
            InputLimits.count("corpora", req.getCorporaCount(), Corpus.values().length - 2, "the number of corpora");
        } catch (StatusRuntimeException e) {
            out.onError(e);
            return;
        }
        if (req.getQuestion().isBlank() && req.getReportTextsList().stream().allMatch(String::isBlank)) {
            out.onError(Status.INVALID_ARGUMENT.withDescription("neither a question nor report text to write queries from")
                    .asRuntimeException());
            return;
        }
        Set<Corpus> corpora = EnumSet.noneOf(Corpus.class);
        for (Corpus c : req.getCorporaList()) {
            if (c == Corpus.CORPUS_UNSPECIFIED || c == Corpus.UNRECOGNIZED) {
                out.onError(Status.INVALID_ARGUMENT.withDescription("unknown corpus in the enabled list").asRuntimeException());
                return;
            }
            corpora.add(c);
        }
        GenerateQueriesResponse res;
        try {
            res = writer.generate(req.getQuestion(), req.getImage(), req.getReportTextsList(), corpora);
        } catch (io.grpc.StatusRuntimeException e) {
            out.onError(e);
            return;
        }
        Log.debugf("%s wrote %d queries from a %d-char question and %d reports", res.getGenerator(), res.getQueriesCount(),
                req.getQuestion().length(), req.getReportTextsCount());
        out.onNext(res);
        out.onCompleted();
    }
}

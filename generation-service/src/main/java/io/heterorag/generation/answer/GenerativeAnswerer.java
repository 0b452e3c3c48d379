package io.heterorag.generation.answer;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.heterorag.model.generation.DecodingOptions;
import io.heterorag.model.generation.Generation;
import io.heterorag.model.generation.GenerationInput;
import io.heterorag.model.generation.Generator;
import io.heterorag.model.generation.RagPrompt;
import io.heterorag.model.image.ImageDecoder;
import io.heterorag.model.image.InvalidImageException;
import io.heterorag.proto.v1.AnswerOptions;
import io.heterorag.proto.v1.KnowledgeHit;
import io.heterorag.proto.v1.RankedAnswer;
import io.heterorag.proto.v1.ReportHit;
import io.heterorag.proto.v1.Task;

/**
 * Answers with a generative Med-LVLM ({@link Generator}): the method's prompt ({@link RagPrompt}:
 * task, knowledge as "title: text", reports for reference only, question) fitted to what the
 * model's context leaves after the image/special tokens and the answer budget — the lowest-ranked
 * evidence goes first, the question is never cut (a question that alone does not fit is
 * INVALID_ARGUMENT). Closed questions are decoded constrained to the allowed answers (default yes,
 * no) and come as one segment; open answers and reports stream as the text arrives, in segments
 * that end at a word boundary and hold at least one content word, so each segment can cite the
 * evidence it relies on (see {@link Attribution}). Greedy unless options.temperature > 0.
 */
public final class GenerativeAnswerer implements Answerer {

    static final List<String> YES_NO = List.of("yes", "no");

    /** Fires the deadline interrupts of all requests (one daemon thread: a timer's task is a few instructions). */
    private static final ScheduledThreadPoolExecutor TIMER = new ScheduledThreadPoolExecutor(1, r -> {
        Thread t = new Thread(r, "generation-deadlines");
        t.setDaemon(true);
        return t;
    });

    static {
        TIMER.setRemoveOnCancelPolicy(true); // a request that finishes in time leaves no task behind
    }

    private final Generator generator;
    private final int defaultMaxNewTokens;
    private final GenerationMetrics metrics;

    /** {@code defaultMaxNewTokens}: the answer budget of open questions and reports when options.max_new_tokens is 0. */
    public GenerativeAnswerer(Generator generator, int defaultMaxNewTokens, GenerationMetrics metrics) {
        if (defaultMaxNewTokens < 1) {
            throw new IllegalArgumentException("the default max new tokens must be at least 1, not " + defaultMaxNewTokens);
        }
        this.generator = generator;
        this.defaultMaxNewTokens = defaultMaxNewTokens;
        this.metrics = metrics;
    }

    @Override
    public String id() {
        return generator.id();
    }

    public Generator generator() {
        return generator;
    }

    @Override
    public Answer answer(Question q, Deadline deadline, Consumer<Segment> onSegment) {
        AnswerOptions o = q.options();
        BufferedImage image = decode(q);
        boolean closed = q.task() == Task.CLOSED_VQA;
        List<String> choices = closed ? (o.getClosedAnswersCount() > 0 ? o.getClosedAnswersList() : YES_NO) : List.of();
        List<String> documents = q.knowledge().stream().map(h -> h.getTitle() + ": " + h.getText()).toList();
        List<String> reportTexts = q.reports().stream().map(ReportHit::getText).toList();
        RagPrompt prompt = new RagPrompt(q.task().name().toLowerCase(Locale.ROOT), q.question(), choices, documents, reportTexts);

        // a closed answer needs its longest choice plus the end token
        int maxNew = closed ? choices.stream().mapToInt(generator::countTokens).max().orElse(1) + 1
                : o.getMaxNewTokens() > 0 ? o.getMaxNewTokens() : defaultMaxNewTokens;
        int overhead = generator.overheadTokens(new GenerationInput(image, ""));
        int budget = generator.contextLength() - overhead - maxNew;
        RagPrompt.Fitted fitted = prompt.fit(generator::countTokens, budget);
        int bare = generator.countTokens(fitted.text());
        if (bare > budget) {
            throw Status.INVALID_ARGUMENT.withDescription(String.format(Locale.ROOT,
                    "the question does not fit the generator's context: the prompt without evidence takes %d tokens, %d are left "
                            + "for it (context %d, image and special tokens %d, answer %d%s)",
                    bare, Math.max(0, budget), generator.contextLength(), overhead, maxNew,
                    closed ? "" : "; a smaller options.max_new_tokens leaves more")).asRuntimeException();
        }
        List<Attribution.Source> kept = RagPrompt.kept(q.knowledge().stream().map(GenerativeAnswerer::source).toList(),
                q.reports().stream().map(GenerativeAnswerer::source).toList(), fitted);
        Attribution attribution = new Attribution(kept);

        DecodingOptions decoding = new DecodingOptions(maxNew, o.getTemperature(), o.getTopP() == 0 ? 1f : o.getTopP(), o.getTopK(),
                o.getSeed(), o.getRepetitionPenalty() == 0 ? 1f : o.getRepetitionPenalty(), o.getStopList(), choices);
        Segmenter segments = new Segmenter(attribution, closed, onSegment);
        Generation g = generate(new GenerationInput(image, fitted.text()), decoding, deadline, segments);
        segments.finish(g.text(), q.question());

        List<String> cited = attribution.citeAnswer(g.text(), q.question());
        List<RankedAnswer> candidates = g.text().isBlank() ? List.of()
                : List.of(RankedAnswer.newBuilder().setText(g.text().strip()).setScore(attribution.support(cited))
                        .addAllEvidenceIds(cited).build());
        return new Answer(g.text(), segments.emitted, candidates, g.finishReason(), g.promptTokens(), g.tokenIds().length,
                fitted.dropped());
    }

    /**
     * Runs the generator under the request's deadline and the caller's cancellation. Each piece of
     * text checks both and a failed check aborts the generation by throwing from the callback (the
     * Generator contract: an exception from onText ends that request's decoding); a request still
     * queued or in prefill when the deadline passes (no text to check on) is woken by an interrupt,
     * which OnnxGenerator answers by cancelling the sequence.
     */
    private Generation generate(GenerationInput input, DecodingOptions options, Deadline deadline, Segmenter segments) {
        Context caller = Context.current();
        AtomicReference<StatusRuntimeException> aborted = new AtomicReference<>();
        AtomicBoolean started = new AtomicBoolean();
        int[] pieces = {0};
        Consumer<String> onText = text -> {
            if (started.compareAndSet(false, true)) {
                metrics.firstToken();
            }
            pieces[0]++;
            StatusRuntimeException stop = stopReason(deadline, caller, pieces[0]);
            if (stop != null) {
                aborted.compareAndSet(null, stop);
                throw stop;
            }
            segments.add(text);
        };
        Waker waker = new Waker(Thread.currentThread());
        ScheduledFuture<?> timer = TIMER.schedule(waker, Math.max(0, deadline.timeRemaining(TimeUnit.NANOSECONDS)), TimeUnit.NANOSECONDS);
        Context.CancellationListener onCancel = c -> waker.run();
        caller.addListener(onCancel, Runnable::run);
        metrics.submitted();
        Generation g;
        try {
            g = generator.generate(input, options, onText);
        } catch (RuntimeException e) {
            StatusRuntimeException stop = aborted.get() != null ? aborted.get() : stopReason(deadline, caller, pieces[0]);
            if (stop != null) {
                throw stop;
            }
            if (e instanceof IllegalArgumentException) {
                throw Status.INVALID_ARGUMENT.withDescription(e.getMessage()).withCause(e).asRuntimeException();
            }
            throw e;
        } finally {
            waker.disarm();
            timer.cancel(false);
            caller.removeListener(onCancel);
            metrics.ended(started.get());
        }
        if (aborted.get() != null) {
            throw aborted.get(); // a runtime that swallowed the callback's exception
        }
        metrics.finished(g.promptTokens(), g.tokenIds().length, g.firstTokenNanos(), g.totalNanos());
        return g;
    }

    private static StatusRuntimeException stopReason(Deadline deadline, Context caller, int pieces) {
        if (deadline.isExpired()) {
            return Status.DEADLINE_EXCEEDED.withDescription("the request's deadline passed during generation (after " + pieces
                    + " pieces of text)").asRuntimeException();
        }
        if (caller.isCancelled()) {
            return Status.CANCELLED.withDescription("the caller cancelled during generation").asRuntimeException();
        }
        return null;
    }

    /** Wakes the generating thread for the deadline or a cancellation, only while it is generating. */
    private static final class Waker implements Runnable {
        private final Thread thread;
        private boolean armed = true;
        private boolean fired;

        Waker(Thread thread) {
            this.thread = thread;
        }

        @Override
        public synchronized void run() {
            if (armed && !fired) {
                fired = true;
                thread.interrupt();
            }
        }

        /** After this no interrupt comes; one that came is cleared, so it does not leak into the pool thread's next task. */
        synchronized void disarm() {
            armed = false;
            if (fired) {
                Thread.interrupted();
            }
        }
    }

    private static BufferedImage decode(Question q) {
        if (q.image().getData().isEmpty()) {
            return null; // text-only request (options.skip_reports without an image)
        }
        try {
            return ImageDecoder.read(q.image()).image();
        } catch (InvalidImageException e) {
            throw Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException();
        }
    }

    private static Attribution.Source source(KnowledgeHit h) {
        return Attribution.source(h.getId(), h.getScore(), asPrompted(h.getTitle() + ": " + h.getText()));
    }

    private static Attribution.Source source(ReportHit r) {
        return Attribution.source(r.getId(), r.getScore(), asPrompted(r.getText()));
    }

    /** The part of an evidence text the model saw (RagPrompt clips each item). */
    private static String asPrompted(String text) {
        return text.length() <= RagPrompt.MAX_ITEM_CHARS ? text : text.substring(0, RagPrompt.MAX_ITEM_CHARS);
    }

    @Override
    public void close() {
        generator.close();
    }

    /** Cuts the streamed text into cited segments (see the class comment). */
    private static final class Segmenter {
        final Attribution attribution;
        final boolean closed;
        final Consumer<Segment> out;
        final StringBuilder pending = new StringBuilder();
        final List<Segment> emitted = new ArrayList<>();

        Segmenter(Attribution attribution, boolean closed, Consumer<Segment> out) {
            this.attribution = attribution;
            this.closed = closed;
            this.out = out;
        }

        synchronized void add(String text) {
            pending.append(text);
            if (closed) {
                return; // one closed answer: one segment when it is complete
            }
            int cut = pending.length();
            while (cut > 0 && Character.isLetterOrDigit(pending.charAt(cut - 1))) {
                cut--; // the last word may continue in the next piece
            }
            var words = Attribution.words(pending.substring(0, cut));
            if (!words.isEmpty()) {
                emit(pending.substring(0, cut), attribution.cite(words));
                pending.delete(0, cut);
            }
        }

        synchronized void finish(String answer, String question) {
            if (pending.isEmpty()) {
                return;
            }
            String rest = pending.toString();
            emit(rest, Attribution.isYesNo(answer) ? attribution.citeAnswer(answer, question) : attribution.cite(Attribution.words(rest)));
            pending.setLength(0);
        }

        private void emit(String text, List<String> citations) {
            Segment s = new Segment(text, citations);
            emitted.add(s);
            out.accept(s);
        }
    }
}

package io.heterorag.tuning.preference;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

import io.heterorag.model.evaluation.VqaScoring;
import io.heterorag.model.generation.DecodingOptions;
import io.heterorag.model.generation.GenerationInput;
import io.heterorag.model.generation.Generator;
import io.heterorag.model.generation.RagPrompt;
import io.heterorag.model.image.ImageDecoder;
import io.heterorag.proto.v1.PairSide;
import io.heterorag.proto.v1.PreferencePair;
import io.heterorag.tuning.preference.LabelledExamples.Labelled;
import io.heterorag.tuning.training.GeneratorExamples.Example;

/**
 * Makes HKPT preference pairs (the method's three kinds) by re-running a generator on labelled
 * examples with ablated inputs, greedy, prompts fitted as serving fits them:
 * <ul>
 * <li>{@code cross_modality}: correct with the real image and with the least similar image of the
 * same set (by the generator's own vision features) → chosen: the answer with the real image;
 * rejected: the same answer with the other image;</li>
 * <li>{@code knowledge_use} (part = reports, documents or both): correct with all evidence, wrong
 * without the part → chosen: with it; rejected: the wrong answer without it;</li>
 * <li>{@code knowledge_robustness}: correct without the part, wrong with it → chosen: without;
 * rejected: with.</li>
 * </ul>
 * Only questions can be judged right or wrong (exact match with the gold answer): report-generation
 * examples are counted and skipped. Each side keeps its own inputs (image, evidence ids and texts,
 * the fitted prompt) so it can be re-run and scored by the DPO job.
 */
public final class PairBuilder {

    /** What an image looks like to the generator: a vector whose cosine similarity compares images. */
    public interface ImageFeatures {
        float[] of(BufferedImage image);
    }

    /** The pairs and what was looked at. */
    public record Built(List<PreferencePair> pairs, int examined, int skippedReports, int skippedTooLong) {

        /** Pairs per kind, every kind present (0 when none). */
        public Map<String, Integer> counts() {
            Map<String, Integer> c = new LinkedHashMap<>();
            for (String k : List.of(PairKinds.CROSS_MODALITY, PairKinds.KNOWLEDGE_USE, PairKinds.KNOWLEDGE_ROBUSTNESS)) {
                c.put(k, 0);
            }
            pairs.forEach(p -> c.merge(p.getKind(), 1, Integer::sum));
            return c;
        }
    }

    /** The evidence parts that can be left out: name, keep documents, keep reports. */
    record Part(String name, boolean documents, boolean reports) {
    }

    static final List<Part> PARTS = List.of(new Part("reports", true, false), new Part("documents", false, true),
            new Part("both", false, false));

    private final Generator generator;
    private final ImageFeatures features;
    private final int answerBudget;

    public PairBuilder(Generator generator, ImageFeatures features, int answerBudget) {
        this.generator = generator;
        this.features = features;
        this.answerBudget = answerBudget;
    }

    /**
     * Pairs of the examples, in example order. {@code threads} examples are re-run at a time, so the
     * runtime can decode them in one batch (greedy output does not depend on batching).
     */
    public Built build(List<Labelled> examples, int threads, Consumer<String> progress) {
        Map<Path, Path> mismatched = leastSimilar(examples, progress);
        List<List<PreferencePair>> perExample = new ArrayList<>();
        int[] done = {0};
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads));
        try {
            List<Future<List<PreferencePair>>> futures = new ArrayList<>();
            for (Labelled l : examples) {
                futures.add(pool.submit(() -> {
                    List<PreferencePair> p = pairs(l, mismatched);
                    synchronized (done) {
                        if (++done[0] % 50 == 0) {
                            progress.accept("pairs: " + done[0] + "/" + examples.size() + " examples re-run");
                        }
                    }
                    return p;
                }));
            }
            for (Future<List<PreferencePair>> f : futures) {
                perExample.add(f.get());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("pair building interrupted", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } finally {
            pool.shutdownNow();
        }
        List<PreferencePair> pairs = new ArrayList<>();
        int examined = 0;
        int reports = 0;
        int tooLong = 0;
        for (int i = 0; i < examples.size(); i++) {
            List<PreferencePair> p = perExample.get(i);
            if (examples.get(i).example().task().equals("report_generation")) {
                reports++;
            } else if (p == null) {
                tooLong++;
            } else {
                examined++;
                pairs.addAll(p);
            }
        }
        return new Built(pairs, examined, reports, tooLong);
    }

    /** The pairs of one example (maybe none); null when it cannot be judged (a report) or does not fit the context. */
    List<PreferencePair> pairs(Labelled l, Map<Path, Path> mismatched) {
        Example e = l.example();
        if (e.task().equals("report_generation")) {
            return null;
        }
        BufferedImage image = decode(e.image());
        String sha = sha256(e.image());
        PairSide all = side(l, e.image(), sha, image, true, true);
        if (all == null) {
            return null;
        }
        List<PreferencePair> pairs = new ArrayList<>();
        boolean right = correct(all, e);
        int keptDocs = all.getDocumentIdsCount();
        int keptReports = all.getReportIdsCount();
        for (Part part : PARTS) {
            boolean applies = switch (part.name()) {
                case "reports" -> keptReports > 0;
                case "documents" -> keptDocs > 0;
                default -> keptReports > 0 && keptDocs > 0;
            };
            if (!applies) {
                continue;
            }
            PairSide without = side(l, e.image(), sha, image, part.documents(), part.reports());
            if (without == null) {
                continue;
            }
            boolean rightWithout = correct(without, e);
            if (right && !rightWithout) {
                pairs.add(pair(PairKinds.KNOWLEDGE_USE, part.name(), e, all, without));
            } else if (!right && rightWithout) {
                pairs.add(pair(PairKinds.KNOWLEDGE_ROBUSTNESS, part.name(), e, without, all));
            }
        }
        Path other = mismatched.get(e.image());
        if (right && other != null) {
            PairSide withOther = side(l, other, sha256(other), decode(other), true, true);
            if (withOther != null && correct(withOther, e)) {
                // the same answer, now as the rejected side of the image that should not support it
                pairs.add(pair(PairKinds.CROSS_MODALITY, "image", e, all, withOther.toBuilder().setAnswer(all.getAnswer()).build()));
            }
        }
        return pairs;
    }

    /** One side: the example's prompt with the chosen evidence, fitted to the context, and the generator's greedy answer; null when it does not fit. */
    PairSide side(Labelled l, Path imagePath, String sha, BufferedImage image, boolean documents, boolean reports) {
        Example e = l.example();
        List<String> docs = documents ? e.documents() : List.of();
        List<String> reps = reports ? e.reports() : List.of();
        RagPrompt prompt = new RagPrompt(e.task(), e.question(), e.choices(), docs, reps);
        int budget = generator.contextLength() - generator.overheadTokens(new GenerationInput(image, "")) - answerBudget;
        RagPrompt.Fitted fitted = prompt.fit(generator::countTokens, budget);
        if (generator.countTokens(fitted.text()) > budget) {
            return null; // serving refuses it too
        }
        String answer = generator.generate(new GenerationInput(image, fitted.text()), options(e), null).text();
        List<String> docIds = documents ? l.documentIds() : List.of();
        List<String> repIds = reports ? l.reportIds() : List.of();
        return PairSide.newBuilder().setImagePath(imagePath.toString()).setImageSha256(sha)
                .addAllDocumentIds(docIds.subList(0, fitted.keptDocuments())).addAllDocuments(docs.subList(0, fitted.keptDocuments()))
                .addAllReportIds(repIds.subList(0, fitted.keptReports())).addAllReports(reps.subList(0, fitted.keptReports()))
                .setPrompt(fitted.text()).setAnswer(answer).build();
    }

    /** Greedy within the answer budget; a closed question constrained to its choices, as serving decodes it. */
    DecodingOptions options(Example e) {
        DecodingOptions greedy = DecodingOptions.greedy(answerBudget);
        return e.task().equals("closed_vqa") ? greedy.withChoices(e.closedChoices()) : greedy;
    }

    private static boolean correct(PairSide side, Example e) {
        return VqaScoring.exact(side.getAnswer(), e.answer());
    }

    private PreferencePair pair(String kind, String ablated, Example e, PairSide chosen, PairSide rejected) {
        String key = generator.id() + "|" + e.id() + "|" + kind + "|" + ablated;
        return PreferencePair.newBuilder().setPairId(kind + ":" + UUID.nameUUIDFromBytes(key.getBytes(StandardCharsets.UTF_8)))
                .setKind(kind).setAblated(ablated).setExampleId(e.id()).setTask(e.task()).addAllChoices(e.choices())
                .setGenerator(generator.id()).setGold(e.answer()).setPrompt(chosen.getPrompt()).setChosen(chosen.getAnswer())
                .setRejected(rejected.getAnswer()).setChosenSide(chosen).setRejectedSide(rejected)
                .setCreatedAtMs(System.currentTimeMillis()).build();
    }

    /**
     * For each question's image, the least similar other image of the same set (cosine of the
     * image features); sets with one image have none. Features are computed once per image.
     */
    public Map<Path, Path> leastSimilar(List<Labelled> examples, Consumer<String> progress) {
        Map<String, Map<Path, float[]>> bySet = new TreeMap<>();
        for (Labelled l : examples) {
            Example e = l.example();
            if (!e.task().equals("report_generation")) {
                bySet.computeIfAbsent(e.set(), s -> new LinkedHashMap<>()).computeIfAbsent(e.image(), p -> unit(features.of(decode(p))));
            }
        }
        progress.accept("image features of " + bySet.values().stream().mapToInt(Map::size).sum() + " images");
        Map<Path, Path> out = new LinkedHashMap<>();
        for (Map<Path, float[]> images : bySet.values()) {
            for (Map.Entry<Path, float[]> a : images.entrySet()) {
                Path worst = null;
                double lowest = Double.POSITIVE_INFINITY;
                for (Map.Entry<Path, float[]> b : images.entrySet()) {
                    if (b.getKey().equals(a.getKey())) {
                        continue;
                    }
                    double cos = dot(a.getValue(), b.getValue());
                    if (cos < lowest) {
                        lowest = cos;
                        worst = b.getKey();
                    }
                }
                if (worst != null) {
                    out.put(a.getKey(), worst);
                }
            }
        }
        return out;
    }

    private static float[] unit(float[] v) {
        double n = Math.sqrt(dot(v, v));
        float[] out = v.clone();
        for (int i = 0; i < out.length && n > 0; i++) {
            out[i] /= (float) n;
        }
        return out;
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    public static BufferedImage decode(Path image) {
        try {
            return ImageDecoder.decode(Files.readAllBytes(image), "");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read image " + image, e);
        }
    }

    static String sha256(Path file) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read image " + file, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

package io.heterorag.tuning.training;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.heterorag.proto.v1.Job;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.ModelAnnouncement;
import io.heterorag.proto.v1.StartJobRequest;
import io.heterorag.tuning.config.TuningConfig;
import io.heterorag.tuning.executor.JobExecutor;
import io.heterorag.tuning.store.TuningStore;
import io.quarkus.logging.Log;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Runs training jobs one at a time in the background, keeping each job's record (parameters,
 * progress, metrics, bundle) in the store. Each kind (modclip, generator) brings its defaults,
 * validation, run and promotion metric; records, progress and promotion are shared here. A model
 * whose metric beats the registered model of its kind (and modality) is promoted: registered and
 * announced on heterorag.models.
 */
@ApplicationScoped
public class JobRunner {

    static final Map<String, String> MODCLIP_DEFAULTS = Map.of("epochs", "20", "batch_size", "64", "learning_rate", "0.001",
            "image_size", "64", "dimension", "128", "seed", "7", "promote", "true");

    /** The generator's defaults: about 5 minutes of training on ~2,000 examples with full prompts on 2 cores. */
    static final Map<String, String> GENERATOR_DEFAULTS = Map.ofEntries(Map.entry("epochs", "8"), Map.entry("batch_size", "32"),
            Map.entry("learning_rate", "0.001"), Map.entry("hidden", "128"), Map.entry("layers", "2"), Map.entry("heads", "4"),
            Map.entry("context", "320"), Map.entry("image_size", "64"), Map.entry("seed", "7"), Map.entry("promote", "true"),
            Map.entry("max_examples", "0"));

    /**
     * What a finished job of any kind produced; {@code promotable} null: promoted when its metric beats
     * the registered model's; true/false: the job decided itself (dpo: not worse before → after).
     */
    public record Outcome(Path bundle, String modelId, Map<String, Double> metrics, Boolean promotable) {
        public Outcome(Path bundle, String modelId, Map<String, Double> metrics) {
            this(bundle, modelId, metrics, null);
        }
    }

    /** Runs a validated job: parameters (defaults filled in), where to write, and progress. */
    public interface Run {
        Outcome run(Map<String, String> params, Path bundleDir, String name, String version, Consumer<String> progress);
    }

    /**
     * One kind of job: the bundle kind it registers, the metric a new model must beat, what its train
     * and eval files hold, its defaults, its validation (IllegalArgumentException with the reason;
     * returns the run) and its model name.
     */
    record Kind(String bundleKind, String promotionMetric, String data, Map<String, String> defaults,
            BiFunction<StartJobRequest, Map<String, String>, Run> validate, Function<Modality, String> modelName) {
    }

    private final Map<String, Kind> kinds = new LinkedHashMap<>();
    private final TuningStore store;
    private final Emitter<byte[]> announcements;
    private final Path modelsDir;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> new Thread(r, "training-jobs"));
    /** Where a job's Run happens (heterorag.tuning.executor: in this process, or as a Kubernetes Job). */
    @Inject
    JobExecutor executor;

    public JobRunner(TuningStore store, @Channel("models") Emitter<byte[]> announcements,
            TuningConfig config) {
        this.store = store;
        this.announcements = announcements;
        this.modelsDir = config.tuning().dataDir().resolve("models").toAbsolutePath();
        kinds.put("modclip", new Kind("image_encoder", "recall_at_5", "pairs", MODCLIP_DEFAULTS, JobRunner::modclip,
                m -> "modclip-" + m.name().toLowerCase(Locale.ROOT)));
        kinds.put("generator", new Kind("generator", "closed_accuracy", "examples", GENERATOR_DEFAULTS, JobRunner::generator,
                m -> "heterorag-vlm"));
        kinds.put("dpo", new Kind("generator", "closed_accuracy", "examples", DPO_DEFAULTS, this::dpo, m -> "heterorag-vlm"));
        kinds.put("mqg", new Kind("mqg", "promotable_recall_at_5", "examples", MqgJob.DEFAULTS, MqgJob::validate, m -> "heterorag-mqg"));
    }

    /** Validates the request, records the job as queued and schedules it. */
    public Job start(StartJobRequest req) {
        Kind kind = kinds.get(req.getKind());
        if (kind == null) {
            throw new IllegalArgumentException("unknown job kind '" + req.getKind() + "' (built: " + String.join(", ", kinds.keySet()) + ")");
        }
        Map<String, String> params = new LinkedHashMap<>(kind.defaults());
        params.putAll(req.getParametersMap());
        Run run = kind.validate().apply(req, params);
        for (String file : new String[] {"train", "eval"}) {
            String p = params.get(file);
            if (p == null || !Files.isRegularFile(Path.of(p))) {
                throw new IllegalArgumentException("parameter '" + file + "' must name a readable " + kind.data() + " file, not " + p);
            }
        }
        long now = System.currentTimeMillis();
        Job job = Job.newBuilder().setJobId(UUID.randomUUID().toString()).setKind(req.getKind()).setModality(req.getModality())
                .setState("queued").putAllParameters(params).setCreatedAtMs(now).setUpdatedAtMs(now).build();
        store.putJob(job);
        worker.submit(() -> run(job, kind, run));
        return job;
    }

    private static Run modclip(StartJobRequest req, Map<String, String> params) {
        if (req.getModality() == Modality.MODALITY_UNSPECIFIED || req.getModality() == Modality.UNRECOGNIZED) {
            throw new IllegalArgumentException("a modclip job needs a modality");
        }
        ModClipTrainer.Config cfg = config(params);
        return (p, dir, name, version, progress) -> {
            ModClipJob.Outcome o = ModClipJob.run(Path.of(p.get("train")), Path.of(p.get("eval")), cfg, dir, name, version, p, progress);
            return new Outcome(o.bundle(), o.modelId(), o.metrics());
        };
    }

    private static Run generator(StartJobRequest req, Map<String, String> params) {
        if (req.getModality() != Modality.MODALITY_UNSPECIFIED) {
            throw new IllegalArgumentException("a generator job serves every modality: leave the modality unset");
        }
        GeneratorJob.Settings settings = generatorSettings(params);
        return (p, dir, name, version, progress) -> {
            GeneratorJob.Outcome o = GeneratorJob.run(Path.of(p.get("train")), Path.of(p.get("eval")), settings, dir, name, version, p,
                    progress);
            return new Outcome(o.bundle(), o.modelId(), o.metrics());
        };
    }

    /** DPO from the served generator: a few epochs over the pairs, β 0.1, a small learning rate (it starts from a trained model). */
    static final Map<String, String> DPO_DEFAULTS = Map.of("epochs", "3", "batch_size", "16", "learning_rate", "0.0001", "beta", "0.1",
            "seed", "7", "promote", "true", "max_examples", "0", "threads", "4", "bundle", "");

    /** dpo: the served generator (the newest registered, or parameter "bundle") tuned on pairs made from "train", judged on "eval". */
    private Run dpo(StartJobRequest req, Map<String, String> params) {
        if (req.getModality() != Modality.MODALITY_UNSPECIFIED) {
            throw new IllegalArgumentException("a dpo job tunes the generator, which serves every modality: leave the modality unset");
        }
        DpoJob.Settings settings;
        try {
            settings = new DpoJob.Settings(new DpoTrainer.Config(Integer.parseInt(params.get("epochs")), Integer.parseInt(params.get("batch_size")),
                    Float.parseFloat(params.get("learning_rate")), Float.parseFloat(params.get("beta")), Long.parseLong(params.get("seed"))),
                    Integer.parseInt(params.get("max_examples")), Integer.parseInt(params.get("threads")));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("a numeric job parameter is not a number: " + e.getMessage());
        }
        DpoTrainer.Config t = settings.training();
        if (t.epochs() < 1 || t.batchSize() < 1 || !(t.learningRate() > 0) || !(t.beta() > 0) || settings.maxExamples() < 0
                || settings.threads() < 1) {
            throw new IllegalArgumentException("need epochs >= 1, batch_size >= 1, learning_rate > 0, beta > 0, max_examples >= 0, threads >= 1");
        }
        String bundle = params.get("bundle").isBlank() ? store.models(Modality.MODALITY_UNSPECIFIED).stream()
                .filter(m -> m.getKind().equals("generator")).findFirst().map(ModelAnnouncement::getBundleUri).orElse("") : params.get("bundle");
        if (bundle.isBlank() || !Files.isRegularFile(Path.of(bundle, "config.json"))) {
            throw new IllegalArgumentException(bundle.isBlank() ? "no generator is registered: train one first (train generator) or name a bundle"
                    : "parameter 'bundle' must name a generator bundle directory, not " + bundle);
        }
        params.put("bundle", bundle);
        return (p, dir, name, version, progress) -> {
            DpoJob.Outcome o = DpoJob.run(Path.of(p.get("bundle")), Path.of(p.get("train")), Path.of(p.get("eval")), settings, dir, name, version,
                    p, store::putPair, progress);
            return new Outcome(o.bundle(), o.modelId(), o.metrics(), o.promotable());
        };
    }

    static GeneratorJob.Settings generatorSettings(Map<String, String> p) {
        try {
            GeneratorTrainer.Config t = new GeneratorTrainer.Config(Integer.parseInt(p.get("epochs")), Integer.parseInt(p.get("batch_size")),
                    Float.parseFloat(p.get("learning_rate")), Long.parseLong(p.get("seed")));
            GeneratorJob.Settings s = new GeneratorJob.Settings(t, Integer.parseInt(p.get("hidden")), Integer.parseInt(p.get("layers")),
                    Integer.parseInt(p.get("heads")), Integer.parseInt(p.get("context")), Integer.parseInt(p.get("image_size")),
                    Integer.parseInt(p.get("max_examples")));
            int imageTokens = (s.imageSize() / 16) * (s.imageSize() / 16);
            if (t.epochs() < 1 || t.batchSize() < 1 || !(t.learningRate() > 0) || s.layers() < 1 || s.heads() < 1
                    || s.hidden() < s.heads() || s.hidden() % s.heads() != 0 || s.imageSize() < 16 || s.imageSize() % 16 != 0
                    || s.context() < imageTokens + 32 || s.maxExamples() < 0) {
                throw new IllegalArgumentException("need epochs >= 1, batch_size >= 1, learning_rate > 0, layers >= 1, heads >= 1, "
                        + "hidden a multiple of heads, image_size a multiple of 16, context >= image tokens ((image_size/16)²) + 32, "
                        + "max_examples >= 0 (0: all)");
            }
            return s;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("a numeric job parameter is not a number: " + e.getMessage());
        }
    }

    static ModClipTrainer.Config config(Map<String, String> p) {
        try {
            ModClipTrainer.Config c = new ModClipTrainer.Config(Integer.parseInt(p.get("epochs")), Integer.parseInt(p.get("batch_size")),
                    Float.parseFloat(p.get("learning_rate")), Integer.parseInt(p.get("image_size")),
                    Integer.parseInt(p.get("dimension")), Long.parseLong(p.get("seed")));
            if (c.epochs() < 1 || c.batchSize() < 2 || c.imageSize() < 16 || c.imageSize() % 16 != 0 || c.dimension() < 2
                    || !(c.learningRate() > 0)) {
                throw new IllegalArgumentException("need epochs >= 1, batch_size >= 2, image_size a multiple of 16, "
                        + "dimension >= 2, learning_rate > 0");
            }
            return c;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("a numeric job parameter is not a number: " + e.getMessage());
        }
    }

    private void run(Job queued, Kind kind, Run run) {
        Job.Builder job = queued.toBuilder();
        update(job.setState("running").setProgress("starting"));
        String name = kind.modelName().apply(queued.getModality());
        String version = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        String metric = kind.promotionMetric();
        try {
            Map<String, String> params = queued.getParametersMap();
            Outcome out = executor.execute(queued, run, ModClipTrainer.bundleDir(modelsDir, name, version), name, version,
                    progress -> update(job.setProgress(progress)));
            double previous = store.models(queued.getModality()).stream().filter(m -> m.getKind().equals(kind.bundleKind()))
                    .findFirst().map(m -> m.getMetricsOrDefault(metric, 0)).orElse(0.0);
            double achieved = out.metrics().getOrDefault(metric, 0.0);
            job.putAllMetrics(out.metrics()).putMetrics("previous_" + metric, previous).setBundlePath(out.bundle().toString())
                    .setModel(out.modelId());
            boolean better = out.promotable() != null ? out.promotable() : achieved > previous;
            if (better && Boolean.parseBoolean(params.get("promote"))) {
                ModelAnnouncement m = ModelAnnouncement.newBuilder().setName(name).setVersion(version).setKind(kind.bundleKind())
                        .setModality(queued.getModality()).setBundleUri(out.bundle().toString()).putAllMetrics(out.metrics()).build();
                store.addModel(m, System.currentTimeMillis());
                announcements.send(Message.of(m.toByteArray())
                        .addMetadata(OutgoingKafkaRecordMetadata.<String>builder().withKey(name).build()));
                job.setPromoted(true);
            }
            update(job.setState("succeeded").setProgress(better ? "done" : "done; not better than the registered model"));
            Log.infof("job %s succeeded: %s %s %.3f (previous %.3f), promoted=%s", queued.getJobId(), out.modelId(), metric,
                    achieved, previous, job.getPromoted());
        } catch (RuntimeException | Error e) {
            Log.errorf(e, "job %s failed", queued.getJobId());
            update(job.setState("failed").setError(String.valueOf(e.getMessage())));
        }
    }

    /**
     * The run of a job recorded by another process (a Kubernetes Job's pod runs the kind here): validated
     * by its kind as start() does, the parameters already filled in.
     */
    public Run prepare(String kind, Modality modality, Map<String, String> params) {
        Kind k = kinds.get(kind);
        if (k == null) {
            throw new IllegalArgumentException("unknown job kind '" + kind + "' (built: " + String.join(", ", kinds.keySet()) + ")");
        }
        StartJobRequest req = StartJobRequest.newBuilder().setKind(kind).setModality(modality).putAllParameters(params).build();
        return k.validate().apply(req, new LinkedHashMap<>(params));
    }

    private void update(Job.Builder job) {
        store.putJob(job.setUpdatedAtMs(System.currentTimeMillis()).build());
    }

    @PreDestroy
    void stop() {
        worker.shutdownNow();
    }
}

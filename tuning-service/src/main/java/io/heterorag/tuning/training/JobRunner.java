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

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;

import io.heterorag.proto.v1.Job;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.ModelAnnouncement;
import io.heterorag.proto.v1.StartJobRequest;
import io.heterorag.tuning.store.TuningStore;
import io.quarkus.logging.Log;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Runs training jobs one at a time in the background, keeping each job's record (parameters,
 * progress, metrics, bundle) in the store. A ModCLIP whose held-out recall@5 beats the registered
 * model of its modality is promoted: registered and announced on heterorag.models.
 */
@ApplicationScoped
public class JobRunner {

    static final Map<String, String> MODCLIP_DEFAULTS = Map.of("epochs", "20", "batch_size", "64", "learning_rate", "0.001",
            "image_size", "64", "dimension", "128", "seed", "7", "promote", "true");

    private final TuningStore store;
    private final Emitter<byte[]> announcements;
    private final Path modelsDir;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> new Thread(r, "training-jobs"));

    public JobRunner(TuningStore store, @Channel("models") Emitter<byte[]> announcements,
            @ConfigProperty(name = "heterorag.tuning.data-dir", defaultValue = "./data/tuning") Path dataDir) {
        this.store = store;
        this.announcements = announcements;
        this.modelsDir = dataDir.resolve("models").toAbsolutePath();
    }

    /** Validates the request, records the job as queued and schedules it. */
    public Job start(StartJobRequest req) {
        if (!req.getKind().equals("modclip")) {
            throw new IllegalArgumentException("unknown job kind '" + req.getKind() + "' (built: modclip)");
        }
        if (req.getModality() == Modality.MODALITY_UNSPECIFIED || req.getModality() == Modality.UNRECOGNIZED) {
            throw new IllegalArgumentException("a modclip job needs a modality");
        }
        Map<String, String> params = new LinkedHashMap<>(MODCLIP_DEFAULTS);
        params.putAll(req.getParametersMap());
        for (String file : new String[] {"train", "eval"}) {
            String p = params.get(file);
            if (p == null || !Files.isRegularFile(Path.of(p))) {
                throw new IllegalArgumentException("parameter '" + file + "' must name a readable pairs file, not " + p);
            }
        }
        ModClipTrainer.Config cfg = config(params);
        long now = System.currentTimeMillis();
        Job job = Job.newBuilder().setJobId(UUID.randomUUID().toString()).setKind("modclip").setModality(req.getModality())
                .setState("queued").putAllParameters(params).setCreatedAtMs(now).setUpdatedAtMs(now).build();
        store.putJob(job);
        worker.submit(() -> run(job, cfg));
        return job;
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

    private void run(Job queued, ModClipTrainer.Config cfg) {
        Job.Builder job = queued.toBuilder();
        update(job.setState("running").setProgress("starting"));
        String modality = queued.getModality().name().toLowerCase(Locale.ROOT);
        String name = "modclip-" + modality;
        String version = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        try {
            Map<String, String> params = queued.getParametersMap();
            ModClipJob.Outcome out = ModClipJob.run(Path.of(params.get("train")), Path.of(params.get("eval")), cfg,
                    ModClipTrainer.bundleDir(modelsDir, name, version), name, version, params,
                    progress -> update(job.setProgress(progress)));
            double previous = store.models(queued.getModality()).stream().findFirst()
                    .map(m -> m.getMetricsOrDefault("recall_at_5", 0)).orElse(0.0);
            job.putAllMetrics(out.metrics()).putMetrics("previous_recall_at_5", previous).setBundlePath(out.bundle().toString())
                    .setModel(out.modelId());
            boolean better = out.metrics().get("recall_at_5") > previous;
            if (better && Boolean.parseBoolean(params.get("promote"))) {
                ModelAnnouncement m = ModelAnnouncement.newBuilder().setName(name).setVersion(version).setKind("image_encoder")
                        .setModality(queued.getModality()).setBundleUri(out.bundle().toString()).putAllMetrics(out.metrics()).build();
                store.addModel(m, System.currentTimeMillis());
                announcements.send(Message.of(m.toByteArray())
                        .addMetadata(OutgoingKafkaRecordMetadata.<String>builder().withKey(name).build()));
                job.setPromoted(true);
            }
            update(job.setState("succeeded").setProgress(better ? "done" : "done; not better than the registered model"));
            Log.infof("job %s succeeded: %s recall@5 %.3f (previous %.3f), promoted=%s", queued.getJobId(), out.modelId(),
                    out.metrics().get("recall_at_5"), previous, job.getPromoted());
        } catch (RuntimeException | Error e) {
            Log.errorf(e, "job %s failed", queued.getJobId());
            update(job.setState("failed").setError(String.valueOf(e.getMessage())));
        }
    }

    private void update(Job.Builder job) {
        store.putJob(job.setUpdatedAtMs(System.currentTimeMillis()).build());
    }

    @PreDestroy
    void stop() {
        worker.shutdownNow();
    }
}

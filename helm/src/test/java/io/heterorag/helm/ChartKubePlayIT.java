package io.heterorag.helm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.marcnuri.helm.Helm;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.heterorag.proto.v1.AnswerRequest;
import io.heterorag.proto.v1.AnswerResponse;
import io.heterorag.proto.v1.AtlasRecord;
import io.heterorag.proto.v1.ClinicalRagGrpc;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.DocumentRecord;
import io.heterorag.proto.v1.GetTraceRequest;
import io.heterorag.proto.v1.Image;
import io.heterorag.proto.v1.IngestRequest;
import io.heterorag.proto.v1.IngestResponse;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.ReportHit;
import io.heterorag.proto.v1.ReportRecord;
import io.heterorag.proto.v1.RetrievalGrpc;
import io.heterorag.proto.v1.Trace;
import io.heterorag.proto.v1.TuningGrpc;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * The chart, rendered by real Helm with its default values, run under {@code podman kube play} from the
 * images {@code ./heterorag images} builds (tagged as the chart names them, nothing pulled): every
 * Deployment becomes a pod, with its ConfigMap, PVCs (podman volumes), security context and memory
 * limits. Kafka is the project's own broker (local-kafka) in a Deployment this test adds (the chart
 * installs none), running in the tuning image. The test waits for every pod's readiness endpoint, ingests
 * a few MedPix cases and topics, and asks one {@code Answer} through generation's gRPC port published on
 * 127.0.0.1; {@code kube down} and volume/network removal run whatever happened.
 *
 * <p>What podman does not do, the test does, and says so: Services do not exist in podman, so each
 * rendered Service name is mapped (hostAliases) to the IP of the one pod its selector selects, on a
 * network of this test with a static IP per pod. Not exercised here: Services' load balancing, HPA, PDB,
 * NetworkPolicy, ServiceMonitor, KEDA, GPU scheduling, the helm test hook, replicas above one
 * (docs/deployment.md, "The chart under podman kube play").
 */
class ChartKubePlayIT {

    static final Path ROOT = Path.of(System.getProperty("repo.root", "..")).toAbsolutePath().normalize();
    static final Path MEDPIX = Path.of(System.getProperty("medpix.dir", ROOT.resolve("../shared/data/medpix-2.0").toString()))
            .toAbsolutePath().normalize();
    static final Path WORK = Path.of("target/kubeplay").toAbsolutePath();
    /** Unique per run, so a run beside another (or a leftover) never shares pods, volumes or the network. */
    static final String RELEASE = "kp" + Long.toString(ProcessHandle.current().pid(), 36);
    static final String NETWORK = RELEASE + "-net";
    static final String KAFKA = RELEASE + "-kafka";
    static final Duration READY_WITHIN = Duration.ofMinutes(Long.getLong("kubeplay.ready.minutes", 8));
    static final ObjectMapper JSON = new ObjectMapper();
    static final int CASES = 8;
    static final int TOPICS = 12;

    final List<Path> played = new ArrayList<>();
    final Set<String> volumes = new LinkedHashSet<>();
    final Map<String, String> podIps = new LinkedHashMap<>();

    @Test
    void theRenderedChartRunsUnderPodmanKubePlayAndAnswers() throws Exception {
        for (String tool : List.of("podman", "runc")) {
            assertTrue(run(Duration.ofSeconds(30), "sh", "-c", "command -v " + tool + " || test -x /usr/sbin/" + tool).ok(),
                    "the kube play test needs " + tool + ": apt-get install -y podman runc debootstrap (docs/deployment.md)");
        }
        assertTrue(Files.isRegularFile(MEDPIX.resolve("descriptions_train.jsonl")), "MedPix 2.0 not found at " + MEDPIX);
        Files.createDirectories(WORK);

        long t0 = System.nanoTime();
        Run images = run(Duration.ofMinutes(20), Map.of("HETERORAG_SKIP_BUILD", "1"), ROOT.resolve("heterorag").toString(), "images");
        assertTrue(images.ok(), "./heterorag images failed:\n" + images.out());
        log("images ready in %d s:%n%s", secondsSince(t0), images.out().strip());

        List<Map<String, Object>> rendered = ChartTest.docs(new Helm(ChartTest.CHART).template().withName(RELEASE)
                .withNamespace("heterorag").set("kafka.bootstrapServers", KAFKA + ":9092").call());
        Set<String> notPlayed = new TreeSet<>();
        for (Map<String, Object> d : rendered) {
            String kind = (String) d.get("kind");
            if (!Set.of("Deployment", "ConfigMap", "PersistentVolumeClaim").contains(kind)) {
                notPlayed.add(kind);
            }
        }
        log("rendered %d objects; kube play does not run: %s", rendered.size(), notPlayed);

        Run net = run(Duration.ofSeconds(60), "podman", "network", "create", NETWORK);
        assertTrue(net.ok(), net.out());
        boolean passed = false;
        try {
            playAndAnswer(rendered);
            passed = true;
        } finally {
            cleanup(passed);
        }
        log("kube play test done in %d s (images included)", secondsSince(t0));
    }

    @SuppressWarnings("unchecked")
    void playAndAnswer(List<Map<String, Object>> rendered) throws Exception {
        String subnet = run(Duration.ofSeconds(30), "podman", "network", "inspect", NETWORK, "--format",
                "{{range .Subnets}}{{.Subnet}}{{end}}").out().strip();
        assertTrue(subnet.matches("\\d+\\.\\d+\\.\\d+\\.0/24"), "network subnet: " + subnet);
        String prefix = subnet.substring(0, subnet.lastIndexOf('.') + 1);

        List<Map<String, Object>> deployments = new ArrayList<>();
        for (Map<String, Object> d : rendered) {
            if ("Deployment".equals(d.get("kind"))) {
                deployments.add(d);
            }
        }
        String tuningImage = ChartTest.at(ChartTest.find(rendered, "Deployment", RELEASE + "-tuning"),
                "spec", "template", "spec", "containers", 0, "image");
        deployments.add(0, kafkaDeployment(tuningImage));
        int host = 10;
        for (Map<String, Object> d : deployments) {
            podIps.put(ChartTest.at(d, "metadata", "name"), prefix + host++);
        }

        // a Service of the chart: its name resolves (in every pod) to the IP of the one pod it selects
        List<Map<String, Object>> aliases = new ArrayList<>();
        aliases.add(Map.of("ip", podIps.get(KAFKA), "hostnames", List.of(KAFKA)));
        for (Map<String, Object> s : rendered) {
            if (!"Service".equals(s.get("kind"))) {
                continue;
            }
            Map<String, Object> selector = ChartTest.at(s, "spec", "selector");
            List<String> selected = deployments.stream()
                    .filter(d -> ((Map<String, Object>) ChartTest.at(d, "spec", "template", "metadata", "labels")).entrySet()
                            .containsAll(selector.entrySet()))
                    .map(d -> (String) ChartTest.at(d, "metadata", "name")).toList();
            assertEquals(1, selected.size(), "Service " + ChartTest.at(s, "metadata", "name") + " selects " + selected);
            String name = ChartTest.at(s, "metadata", "name");
            aliases.add(Map.of("ip", podIps.get(selected.get(0)), "hostnames", List.of(name, name + ".heterorag.svc")));
        }

        int generationPort = freePort();
        int retrievalPort = freePort();
        Map<String, Integer> httpPorts = new LinkedHashMap<>();
        for (Map<String, Object> d : deployments) {
            String name = ChartTest.at(d, "metadata", "name");
            Map<String, Object> pod = ChartTest.at(d, "spec", "template", "spec");
            pod.put("hostAliases", aliases);
            ownEmptyDirs(name, pod);
            Map<String, Object> container = ChartTest.at(pod, "containers", 0);
            for (Map<String, Object> port : (List<Map<String, Object>>) container.get("ports")) {
                if ("http".equals(port.get("name"))) {
                    httpPorts.put(name, (Integer) port.get("containerPort"));
                }
                // published on 127.0.0.1 only: generation's public port, and retrieval's for the test's ingest
                if ("grpc".equals(port.get("name")) && (name.endsWith("-generation") || name.endsWith("-retrieval"))) {
                    port.put("hostPort", name.endsWith("-generation") ? generationPort : retrievalPort);
                    port.put("hostIP", "127.0.0.1");
                }
            }
            List<Object> docs = new ArrayList<>();
            objectsOf(rendered, pod).forEach(o -> docs.add(copy(o)));
            docs.add(copy(d));
            Path file = WORK.resolve(name + ".yaml");
            DumperOptions o = new DumperOptions();
            o.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
            Files.writeString(file, new Yaml(o).dumpAll(docs.iterator()));
            Run play = run(Duration.ofMinutes(3), "podman", "kube", "play", "--network", NETWORK, "--ip", podIps.get(name),
                    file.toString());
            played.add(file);
            assertTrue(play.ok(), "kube play " + name + ":\n" + play.out());
        }
        log("played %d pods on %s: %s", deployments.size(), NETWORK, podIps);

        long t0 = System.nanoTime();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        Map<String, String> readiness = new LinkedHashMap<>();
        for (var e : httpPorts.entrySet()) {
            readiness.put(e.getKey(), awaitReady(http, e.getKey(), podIps.get(e.getKey()), e.getValue(), t0));
        }
        log("every pod ready after %d s", secondsSince(t0));
        // Quarkus's readiness includes the gRPC server and the Kafka clients: ready means Kafka was reached by name
        assertTrue(readiness.get(RELEASE + "-generation").contains("gRPC Server"), readiness.get(RELEASE + "-generation"));

        ManagedChannel retrieval = ManagedChannelBuilder.forAddress("127.0.0.1", retrievalPort).usePlaintext().build();
        ManagedChannel generation = ManagedChannelBuilder.forAddress("127.0.0.1", generationPort).usePlaintext().build();
        ManagedChannel tuning = null;
        try {
            List<String> cases = ingest(retrieval);
            String image = cases.get(0);
            AnswerResponse res = ClinicalRagGrpc.newBlockingStub(generation).withDeadlineAfter(120, TimeUnit.SECONDS)
                    .answer(AnswerRequest.newBuilder().setRequestId("kubeplay-1")
                            .setImage(Image.newBuilder().setMediaType("image/jpeg")
                                    .setData(ByteString.copyFrom(Files.readAllBytes(MEDPIX.resolve("images/" + image + ".jpg")))))
                            .setModality(Modality.RADIOLOGY).setQuestion("What is the most likely diagnosis?").build());
            assertFalse(res.getReportsList().isEmpty(), "reports retrieved through the retrieval Service name");
            assertEquals("medpix:" + image, res.getReports(0).getId(), "an ingested image finds its own report first");
            for (ReportHit r : res.getReportsList()) {
                assertTrue(cases.contains(r.getId().substring("medpix:".length())), r.getId() + " is one of the ingested cases");
            }
            assertFalse(res.getKnowledgeList().isEmpty(), "knowledge from the ingested topics");
            assertFalse(res.getQueriesList().isEmpty(), "queries from querygen, reached through its Service name");
            assertFalse(res.getAnswer().isBlank());
            assertEquals("extractive-evidence-ranker@1", res.getModels().getAnswerer());
            log("answered in the pods: %d reports, %d knowledge hits, %d queries, answerer %s", res.getReportsCount(),
                    res.getKnowledgeCount(), res.getQueriesCount(), res.getModels().getAnswerer());

            // generation -> Kafka (the broker by its advertised name) -> tuning: read on tuning's pod IP
            // (the host reaches the test network, as it reaches the readiness endpoints)
            tuning = ManagedChannelBuilder.forAddress(podIps.get(RELEASE + "-tuning"), grpcPort(deployments, RELEASE + "-tuning"))
                    .usePlaintext().build();
            Trace trace = awaitTrace(tuning, res.getTraceId());
            assertEquals("kubeplay-1", trace.getRequestId());
            assertEquals(res.getReportsCount(), trace.getReportsCount());
        } finally {
            retrieval.shutdownNow();
            generation.shutdownNow();
            if (tuning != null) {
                tuning.shutdownNow();
            }
        }
    }

    static Trace awaitTrace(ManagedChannel tuning, String id) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (true) {
            try {
                return TuningGrpc.newBlockingStub(tuning).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .getTrace(GetTraceRequest.newBuilder().setTraceId(id).build());
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.NOT_FOUND && e.getStatus().getCode() != Status.Code.UNAVAILABLE) {
                    throw e;
                }
                assertTrue(System.nanoTime() < end, "trace " + id + " not in tuning-service within 90 s (Kafka between the pods)");
                Thread.sleep(500);
            }
        }
    }

    @SuppressWarnings("unchecked")
    static int grpcPort(List<Map<String, Object>> deployments, String name) {
        Map<String, Object> d = deployments.stream().filter(x -> name.equals(ChartTest.at(x, "metadata", "name"))).findFirst().orElseThrow();
        List<Map<String, Object>> ports = ChartTest.at(d, "spec", "template", "spec", "containers", 0, "ports");
        return (Integer) ports.stream().filter(p -> "grpc".equals(p.get("name"))).findFirst().orElseThrow().get("containerPort");
    }

    /** The first MedPix train images and topics, stored through retrieval's gRPC Ingest; returns the image names. */
    List<String> ingest(ManagedChannel retrieval) throws IOException {
        IngestRequest.Builder req = IngestRequest.newBuilder();
        List<String> images = new ArrayList<>();
        for (String line : Files.readAllLines(MEDPIX.resolve("descriptions_train.jsonl"))) {
            if (images.size() == CASES) {
                break;
            }
            JsonNode c = JSON.readTree(line);
            String image = c.path("image").asText();
            String caption = c.path("Description").path("Caption").asText("");
            if (caption.isBlank() || !Files.isRegularFile(MEDPIX.resolve("images/" + image + ".jpg"))) {
                continue;
            }
            images.add(image);
            req.addRecords(AtlasRecord.newBuilder().setId("medpix:" + image).setReport(ReportRecord.newBuilder()
                    .setModality(Modality.RADIOLOGY).setText(caption + " Location: " + c.path("Location").asText()).setSource("medpix-2.0")
                    .setImage(Image.newBuilder().setMediaType("image/jpeg")
                            .setData(ByteString.copyFrom(Files.readAllBytes(MEDPIX.resolve("images/" + image + ".jpg")))))));
        }
        List<String> topics = Files.readAllLines(MEDPIX.resolve("topics.jsonl"));
        for (String line : topics.subList(0, Math.min(TOPICS, topics.size()))) {
            JsonNode t = JSON.readTree(line);
            req.addRecords(AtlasRecord.newBuilder().setId(t.path("id").asText()).setDocument(DocumentRecord.newBuilder()
                    .setCorpus(Corpus.BOOK).setTitle(t.path("title").asText()).setContent(t.path("content").asText())
                    .setSource("medpix-2.0 topics")));
        }
        IngestResponse res = RetrievalGrpc.newBlockingStub(retrieval).withDeadlineAfter(180, TimeUnit.SECONDS).ingest(req.build());
        assertTrue(res.getRejectedList().isEmpty(), "rejected: " + res.getRejectedList());
        assertTrue(res.getStored() + res.getUnchanged() + res.getDuplicatesCount() == req.getRecordsCount(),
                "stored " + res.getStored() + " of " + req.getRecordsCount());
        images.removeIf(i -> res.getDuplicatesList().stream().anyMatch(d -> d.getId().equals("medpix:" + i)));
        return images;
    }

    /**
     * podman 4.3 makes an emptyDir a named volume called as the pod's volume, so every pod's "tmp" would be
     * one shared /tmp (JVM perf data, Vert.x cache, native libraries of five JVMs) and outlive the test:
     * each emptyDir gets the pod's name in front, as Kubernetes gives each pod its own.
     */
    @SuppressWarnings("unchecked")
    void ownEmptyDirs(String deployment, Map<String, Object> pod) {
        for (Map<String, Object> v : (List<Map<String, Object>>) pod.getOrDefault("volumes", List.of())) {
            if (v.containsKey("emptyDir")) {
                String own = deployment + "-" + v.get("name");
                for (Map<String, Object> c : (List<Map<String, Object>>) pod.get("containers")) {
                    for (Map<String, Object> m : (List<Map<String, Object>>) c.getOrDefault("volumeMounts", List.of())) {
                        if (v.get("name").equals(m.get("name"))) {
                            m.put("name", own);
                        }
                    }
                }
                v.put("name", own);
                volumes.add(own);
            }
        }
    }

    /** A deep copy: objects shared in the tree would be written as YAML anchors, which kube play need not accept. */
    static Object copy(Object node) {
        if (node instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            m.forEach((k, v) -> out.put(k, copy(v)));
            return out;
        }
        if (node instanceof List<?> l) {
            return new ArrayList<>(l.stream().map(ChartKubePlayIT::copy).toList());
        }
        return node;
    }

    /** The ConfigMaps and PVCs a pod refers to, from the rendered chart. */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> objectsOf(List<Map<String, Object>> rendered, Map<String, Object> pod) {
        Set<String> configMaps = new LinkedHashSet<>();
        Set<String> claims = new LinkedHashSet<>();
        for (Map<String, Object> c : (List<Map<String, Object>>) pod.get("containers")) {
            for (Map<String, Object> from : (List<Map<String, Object>>) c.getOrDefault("envFrom", List.of())) {
                if (from.get("configMapRef") != null) {
                    configMaps.add(ChartTest.at(from, "configMapRef", "name"));
                }
            }
        }
        for (Map<String, Object> v : (List<Map<String, Object>>) pod.getOrDefault("volumes", List.of())) {
            if (v.get("persistentVolumeClaim") != null) {
                claims.add(ChartTest.at(v, "persistentVolumeClaim", "claimName"));
            }
            if (v.get("configMap") != null) {
                configMaps.add(ChartTest.at(v, "configMap", "name"));
            }
        }
        List<Map<String, Object>> out = new ArrayList<>();
        configMaps.forEach(n -> out.add(ChartTest.find(rendered, "ConfigMap", n)));
        claims.forEach(n -> out.add(ChartTest.find(rendered, "PersistentVolumeClaim", n)));
        return out;
    }

    /**
     * The broker for the test (the chart installs none): the project's local-kafka, built by the reactor,
     * mounted read-only into the tuning image and advertised under the name the other pods resolve.
     */
    Map<String, Object> kafkaDeployment(String image) {
        Path jar = ROOT.resolve("local-kafka/target/local-kafka-0.1.0-SNAPSHOT.jar");
        assertTrue(Files.isRegularFile(jar), "no " + jar + ": mvn package -pl local-kafka first");
        Map<String, Object> labels = Map.of("app.kubernetes.io/name", "kafka", "app.kubernetes.io/instance", RELEASE);
        Map<String, Object> container = new LinkedHashMap<>();
        container.put("name", "kafka");
        container.put("image", image);
        container.put("command", List.of("java", "-Xmx384m", "-Djava.io.tmpdir=/tmp", "-jar", "/opt/local-kafka/" + jar.getFileName(),
                "/tmp/kafka", "9092", "9093", KAFKA));
        container.put("ports", List.of(Map.of("name", "kafka", "containerPort", 9092)));
        container.put("resources", Map.of("limits", Map.of("memory", "768Mi")));
        container.put("securityContext", Map.of("allowPrivilegeEscalation", false, "readOnlyRootFilesystem", true,
                "capabilities", Map.of("drop", List.of("ALL"))));
        container.put("volumeMounts", List.of(Map.of("name", "local-kafka", "mountPath", "/opt/local-kafka", "readOnly", true),
                new LinkedHashMap<>(Map.of("name", "tmp", "mountPath", "/tmp"))));
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("securityContext", Map.of("runAsNonRoot", true, "runAsUser", 185, "runAsGroup", 185));
        spec.put("containers", List.of(container));
        spec.put("volumes", List.of(Map.of("name", "local-kafka", "hostPath", Map.of("path", jar.getParent().toString(), "type", "Directory")),
                new LinkedHashMap<>(Map.of("name", "tmp", "emptyDir", Map.of()))));
        Map<String, Object> template = new LinkedHashMap<>();
        template.put("metadata", Map.of("labels", labels));
        template.put("spec", spec);
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("apiVersion", "apps/v1");
        d.put("kind", "Deployment");
        d.put("metadata", Map.of("name", KAFKA, "labels", labels));
        d.put("spec", Map.of("replicas", 1, "selector", Map.of("matchLabels", labels), "template", template));
        return d;
    }

    /** Polls the chart's readinessProbe endpoint of one pod; fails early, with its log, when its container exits. */
    String awaitReady(HttpClient http, String name, String ip, int port, long t0) throws Exception {
        URI uri = URI.create("http://" + ip + ":" + port + "/q/health/ready");
        String last = "";
        while (System.nanoTime() - t0 < READY_WITHIN.toNanos()) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return r.body();
                }
                last = r.statusCode() + " " + r.body();
            } catch (IOException e) {
                last = e.toString();
            }
            String state = run(Duration.ofSeconds(30), "podman", "ps", "-a", "--filter", "pod=" + name + "-pod-0",
                    "--format", "{{.Names}} {{.State}}").out();
            assertFalse(state.contains("exited"), name + " exited:\n" + state + "\n" + logsOf(name));
            Thread.sleep(2000);
        }
        throw new AssertionError(name + " not ready within " + READY_WITHIN + " (" + last + ")\n" + logsOf(name));
    }

    String logsOf(String deployment) throws Exception {
        return logsOf(deployment, "60");
    }

    /** The logs of a pod's containers (health reports left out), the last {@code tail} lines ("-1": every line). */
    String logsOf(String deployment, String tail) throws Exception {
        String names = run(Duration.ofSeconds(30), "podman", "ps", "-a", "--filter", "pod=" + deployment + "-pod-0",
                "--format", "{{.Names}}").out();
        StringBuilder out = new StringBuilder();
        for (String c : names.strip().split("\n")) {
            if (!c.isBlank() && !c.endsWith("-infra")) {
                out.append("--- ").append(c).append('\n').append(run(Duration.ofSeconds(30), "podman", "logs", "--tail", tail, c).out()
                        .lines().filter(l -> !l.contains("SRHCK01001")).collect(java.util.stream.Collectors.joining("\n"))).append('\n');
            }
        }
        return out.toString();
    }

    /**
     * kube down of every played file, then the volumes (PVCs, kept by kube down) and the network; logs kept
     * first. Fails when a container is left, unless the test failed already.
     */
    void cleanup(boolean passed) throws Exception {
        for (String name : podIps.keySet()) {
            if (!played.isEmpty()) {
                Files.writeString(WORK.resolve(name + ".log"), logsOf(name, "-1"));
            }
        }
        for (Path file : played) {
            for (Object doc : new Yaml().loadAll(Files.readString(file))) {
                if (doc instanceof Map<?, ?> m && "PersistentVolumeClaim".equals(m.get("kind"))) {
                    volumes.add((String) ((Map<?, ?>) m.get("metadata")).get("name"));
                }
            }
            Run down = run(Duration.ofMinutes(2), "podman", "kube", "down", file.toString());
            log("kube down %s: %s", file.getFileName(), down.ok() ? "ok" : down.out());
        }
        for (String v : volumes) {
            run(Duration.ofSeconds(60), "podman", "volume", "rm", "-f", v);
        }
        run(Duration.ofSeconds(60), "podman", "network", "rm", "-f", NETWORK);
        String left = run(Duration.ofSeconds(30), "podman", "ps", "-a", "--filter", "name=" + RELEASE, "--format", "{{.Names}}").out().strip();
        // after a failure, that failure is the one to report
        assertTrue(left.isEmpty() || !passed, "containers left after kube down: " + left);
    }

    record Run(int exit, String out) {
        boolean ok() {
            return exit == 0;
        }
    }

    static Run run(Duration limit, String... cmd) throws Exception {
        return run(limit, Map.of(), cmd);
    }

    static Run run(Duration limit, Map<String, String> env, String... cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        Path out = Files.createTempFile(Files.createDirectories(WORK), "run", ".log");
        Process p = pb.redirectOutput(out.toFile()).start();
        if (!p.waitFor(limit.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            return new Run(124, String.join(" ", cmd) + ": timed out after " + limit + "\n" + Files.readString(out));
        }
        String text = Files.readString(out, StandardCharsets.UTF_8);
        Files.delete(out);
        return new Run(p.exitValue(), text);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        }
    }

    static long secondsSince(long t0) {
        return (System.nanoTime() - t0) / 1_000_000_000L;
    }

    static void log(String format, Object... args) {
        System.out.printf("[kubeplay] " + format + "%n", args);
    }
}

package io.heterorag.helm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import com.marcnuri.helm.Helm;
import com.sun.net.httpserver.HttpServer;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The chart rendered by real Helm for several value sets, every object read strictly into fabric8's
 * Kubernetes model (StrictModel), then cross-checked the way a cluster would wire it: selectors,
 * ports, budgets, policies, autoscaler targets, RBAC; and the values schema refusing bad values.
 */
class ChartObjectsTest {

    static final Path VALUES = Path.of(System.getProperty("chart.values", "src/test/resources/values"));
    static final String NS = "heterorag";

    /** Renders with a test values file ("default": none) and --set pairs. */
    static String render(String valueSet, Object... sets) {
        TemplateCommand t = new Helm(ChartTest.CHART).template().withName("heterorag").withNamespace(NS);
        if (!valueSet.equals("default")) {
            t = t.withValuesFile(VALUES.resolve(valueSet + ".yaml"));
        }
        for (int i = 0; i < sets.length; i += 2) {
            t = t.set((String) sets[i], sets[i + 1]);
        }
        return t.call();
    }

    static List<HasMetadata> objects(String valueSet, Object... sets) {
        return StrictModel.parse(render(valueSet, sets));
    }

    static <T extends HasMetadata> List<T> all(List<HasMetadata> objs, Class<T> type) {
        return objs.stream().filter(type::isInstance).map(type::cast).toList();
    }

    static <T extends HasMetadata> T one(List<HasMetadata> objs, Class<T> type, String name) {
        return all(objs, type).stream().filter(o -> o.getMetadata().getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " " + name));
    }

    static boolean selects(Map<String, String> selector, Map<String, String> labels) {
        return selector != null && !selector.isEmpty() && labels.entrySet().containsAll(selector.entrySet());
    }

    @ParameterizedTest
    @ValueSource(strings = {"default", "gpu", "keda", "qdrant", "executor-kubernetes", "secure"})
    void everyObjectIsAValidKubernetesObjectAndTheyFitTogether(String valueSet) {
        List<HasMetadata> objs = objects(valueSet);
        List<Deployment> deployments = all(objs, Deployment.class);
        assertEquals(4, deployments.size());
        Set<String> names = new HashSet<>();
        for (HasMetadata o : objs) {
            assertTrue(names.add(o.getKind() + "/" + o.getMetadata().getName()), "duplicate " + o.getKind() + " " + o.getMetadata().getName());
        }

        for (Deployment d : deployments) {
            Map<String, String> podLabels = d.getSpec().getTemplate().getMetadata().getLabels();
            assertTrue(selects(d.getSpec().getSelector().getMatchLabels(), podLabels), d.getMetadata().getName() + " selects its pods");
            PodSpec pod = d.getSpec().getTemplate().getSpec();
            assertSecure(d.getMetadata().getName(), pod);
            Container c = pod.getContainers().get(0);
            // the ConfigMap, PVCs and service account a pod names exist
            c.getEnvFrom().forEach(e -> one(objs, ConfigMap.class, e.getConfigMapRef().getName()));
            for (Volume v : pod.getVolumes()) {
                if (v.getPersistentVolumeClaim() != null && !v.getPersistentVolumeClaim().getClaimName().equals("medical-datasets")) {
                    one(objs, PersistentVolumeClaim.class, v.getPersistentVolumeClaim().getClaimName());
                }
            }
            Set<String> volumes = pod.getVolumes().stream().map(Volume::getName).collect(Collectors.toSet());
            c.getVolumeMounts().forEach(m -> assertTrue(volumes.contains(m.getName()), "mount of an undeclared volume " + m.getName()));
            if (pod.getServiceAccountName() != null) {
                one(objs, ServiceAccount.class, pod.getServiceAccountName());
            }
            // topology spread selects this service's pods
            pod.getTopologySpreadConstraints().forEach(t -> assertTrue(selects(t.getLabelSelector().getMatchLabels(), podLabels)));
        }

        for (Service s : all(objs, Service.class)) {
            List<Deployment> backing = deployments.stream()
                    .filter(d -> selects(s.getSpec().getSelector(), d.getSpec().getTemplate().getMetadata().getLabels())).toList();
            assertEquals(1, backing.size(), "Service " + s.getMetadata().getName() + " selects the pods of exactly one Deployment");
            List<ContainerPort> ports = backing.get(0).getSpec().getTemplate().getSpec().getContainers().get(0).getPorts();
            for (ServicePort p : s.getSpec().getPorts()) {
                IntOrString target = p.getTargetPort();
                assertTrue(ports.stream().anyMatch(cp -> target.getStrVal() != null ? target.getStrVal().equals(cp.getName())
                        : target.getIntVal().equals(cp.getContainerPort())), "targetPort " + target + " of " + s.getMetadata().getName()
                        + " is a container port");
            }
        }

        for (PodDisruptionBudget pdb : all(objs, PodDisruptionBudget.class)) {
            Deployment d = one(objs, Deployment.class, pdb.getMetadata().getName());
            assertTrue(selects(pdb.getSpec().getSelector().getMatchLabels(), d.getSpec().getTemplate().getMetadata().getLabels()));
            int fewest = fewestPods(objs, d);
            assertTrue(pdb.getSpec().getMinAvailable().getIntVal() < fewest,
                    pdb.getMetadata().getName() + ": minAvailable " + pdb.getSpec().getMinAvailable() + " below " + fewest + " pods");
        }

        for (HorizontalPodAutoscaler h : all(objs, HorizontalPodAutoscaler.class)) {
            assertEquals("Deployment", h.getSpec().getScaleTargetRef().getKind());
            Deployment d = one(objs, Deployment.class, h.getSpec().getScaleTargetRef().getName());
            assertNull(d.getSpec().getReplicas(), "an autoscaled Deployment leaves its replica count to the autoscaler");
            assertTrue(h.getSpec().getMinReplicas() <= h.getSpec().getMaxReplicas());
        }

        Map<String, Integer> grpcPorts = deployments.stream().collect(Collectors.toMap(d -> d.getMetadata().getName(),
                d -> port(d, "grpc")));
        for (NetworkPolicy np : all(objs, NetworkPolicy.class)) {
            Deployment d = one(objs, Deployment.class, np.getMetadata().getName());
            assertTrue(selects(np.getSpec().getPodSelector().getMatchLabels(), d.getSpec().getTemplate().getMetadata().getLabels()));
            Set<Integer> ingress = np.getSpec().getIngress().stream().flatMap(r -> r.getPorts().stream())
                    .map(p -> p.getPort().getIntVal()).collect(Collectors.toSet());
            assertEquals(Set.of(port(d, "grpc"), port(d, "http")), ingress, "ingress only on the service's own ports");
            // egress to the release's pods: exactly the gRPC ports
            Set<Integer> internal = np.getSpec().getEgress().stream().filter(r -> r.getTo() != null && r.getTo().stream()
                    .anyMatch(t -> t.getPodSelector() != null)).flatMap(r -> r.getPorts().stream()).map(p -> p.getPort().getIntVal())
                    .collect(Collectors.toSet());
            assertEquals(new HashSet<>(grpcPorts.values()), internal);
        }

        for (GenericKubernetesResource so : objs.stream().filter(GenericKubernetesResource.class::isInstance)
                .map(GenericKubernetesResource.class::cast).filter(g -> g.getKind().equals("ScaledObject")).toList()) {
            Deployment d = one(objs, Deployment.class, (String) ChartTest.at(so.getAdditionalProperties(), "spec", "scaleTargetRef", "name"));
            assertNull(d.getSpec().getReplicas(), "KEDA sets the replica count");
            assertTrue(all(objs, HorizontalPodAutoscaler.class).stream()
                    .noneMatch(h -> h.getSpec().getScaleTargetRef().getName().equals(d.getMetadata().getName())),
                    "KEDA makes its own HPA: no second one for " + d.getMetadata().getName());
        }
        assertTrue(all(objs, Pod.class).isEmpty(), "no bare pods (helm template leaves out the test hook)");
    }

    /**
     * helm lint (strict) renders every template, NOTES.txt and the test hook included, but reads only the
     * chart's own values.yaml: lint a copy whose values.yaml is the defaults merged with the value set.
     */
    @ParameterizedTest
    @ValueSource(strings = {"gpu", "keda", "qdrant", "executor-kubernetes", "secure"})
    void lintsCleanlyWithEveryValueSet(String valueSet) throws Exception {
        Path copy = Path.of("target", "lint-" + valueSet, "heterorag");
        try (var files = Files.walk(ChartTest.CHART)) {
            for (Path f : files.toList()) {
                Path to = copy.resolve(ChartTest.CHART.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(f, to, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        Yaml yaml = new Yaml();
        Map<String, Object> values = yaml.load(Files.readString(ChartTest.CHART.resolve("values.yaml")));
        merge(values, yaml.load(Files.readString(VALUES.resolve(valueSet + ".yaml"))));
        Files.writeString(copy.resolve("values.yaml"), yaml.dump(values));
        LintResult r = new Helm(copy).lint().strict().call();
        assertFalse(r.isFailed(), String.join("\n", r.getMessages()));
    }

    @SuppressWarnings("unchecked")
    static void merge(Map<String, Object> into, Map<String, Object> from) {
        from.forEach((k, v) -> {
            if (v instanceof Map<?, ?> m && into.get(k) instanceof Map<?, ?> base) {
                merge((Map<String, Object>) base, (Map<String, Object>) m);
            } else {
                into.put(k, v);
            }
        });
    }

    static int port(Deployment d, String name) {
        return d.getSpec().getTemplate().getSpec().getContainers().get(0).getPorts().stream().filter(p -> p.getName().equals(name))
                .findFirst().orElseThrow().getContainerPort();
    }

    static int fewestPods(List<HasMetadata> objs, Deployment d) {
        if (d.getSpec().getReplicas() != null) {
            return d.getSpec().getReplicas();
        }
        return all(objs, HorizontalPodAutoscaler.class).stream()
                .filter(h -> h.getSpec().getScaleTargetRef().getName().equals(d.getMetadata().getName()))
                .map(h -> h.getSpec().getMinReplicas()).findFirst()
                .orElseGet(() -> objs.stream().filter(GenericKubernetesResource.class::isInstance).map(GenericKubernetesResource.class::cast)
                        .filter(g -> d.getMetadata().getName().equals(ChartTest.at(g.getAdditionalProperties(), "spec", "scaleTargetRef", "name")))
                        .map(g -> ((Number) ChartTest.at(g.getAdditionalProperties(), "spec", "minReplicaCount")).intValue()).findFirst()
                        .orElseThrow(() -> new AssertionError("nothing sets the replicas of " + d.getMetadata().getName())));
    }

    static void assertSecure(String name, PodSpec pod) {
        assertTrue(pod.getSecurityContext().getRunAsNonRoot(), name);
        assertEquals("RuntimeDefault", pod.getSecurityContext().getSeccompProfile().getType(), name);
        for (Container c : pod.getContainers()) {
            assertFalse(c.getSecurityContext().getAllowPrivilegeEscalation(), name);
            assertTrue(c.getSecurityContext().getReadOnlyRootFilesystem(), name);
            assertEquals(List.of("ALL"), c.getSecurityContext().getCapabilities().getDrop(), name);
            // the JVM, ONNX Runtime and DJL write under /tmp: a volume, since the root filesystem is read-only
            assertTrue(c.getVolumeMounts().stream().anyMatch(m -> m.getMountPath().equals("/tmp")), name + " has a writable /tmp");
        }
    }

    @Test
    void defaultsScaleGenerationAndQuerygenOnCpuAndRequestsInFlight() {
        List<HasMetadata> objs = objects("default");
        for (String s : List.of("generation", "querygen")) {
            HorizontalPodAutoscaler h = one(objs, HorizontalPodAutoscaler.class, "heterorag-" + s);
            assertEquals("cpu", h.getSpec().getMetrics().get(0).getResource().getName());
            assertEquals(70, h.getSpec().getMetrics().get(0).getResource().getTarget().getAverageUtilization());
            assertEquals("heterorag_" + s + "_requests_in_flight", h.getSpec().getMetrics().get(1).getPods().getMetric().getName());
            assertEquals("Pods", h.getSpec().getMetrics().get(1).getType());
            one(objs, PodDisruptionBudget.class, "heterorag-" + s);
        }
        assertEquals(2, all(objs, HorizontalPodAutoscaler.class).size(), "retrieval (embedded) and tuning run one pod");
        assertEquals(1, one(objs, Deployment.class, "heterorag-retrieval").getSpec().getReplicas());
        assertEquals(1, one(objs, Deployment.class, "heterorag-tuning").getSpec().getReplicas());
        assertTrue(all(objs, Role.class).isEmpty(), "no API access without the Kubernetes executor");
        for (Deployment d : all(objs, Deployment.class)) {
            assertFalse(d.getSpec().getTemplate().getSpec().getAutomountServiceAccountToken(), "no pod carries an API token it does not use");
            Container c = d.getSpec().getTemplate().getSpec().getContainers().get(0);
            assertTrue(c.getImage().endsWith(":0.1.0"), c.getImage());
            assertNull(c.getResources().getLimits().get("nvidia.com/gpu"));
        }
        assertEquals("auto", one(objs, ConfigMap.class, "heterorag-generation").getData().get("HETERORAG_MODELS_EXECUTION_PROVIDER"));
    }

    @Test
    void aSecureReleaseGivesEachServiceTheSettingsTheLauncherGivesWithItsCertificateFromASecret() throws Exception {
        List<HasMetadata> objs = objects("secure");
        for (String s : List.of("retrieval", "querygen", "generation", "tuning")) {
            java.util.Properties props = new java.util.Properties();
            props.load(new java.io.StringReader(one(objs, ConfigMap.class, "heterorag-" + s + "-secure").getData().get("secure.properties")));
            assertEquals(io.heterorag.guard.SecureSettings.server(Path.of("/etc/heterorag/tls"), s).keySet(), props.stringPropertyNames(),
                    "the same keys as ./heterorag up --secure");
            assertEquals("false", props.getProperty("quarkus.grpc.server.plain-text"));
            PodSpec pod = one(objs, Deployment.class, "heterorag-" + s).getSpec().getTemplate().getSpec();
            Container c = pod.getContainers().get(0);
            assertEquals("/etc/heterorag/secure/secure.properties", c.getEnv().stream()
                    .filter(e -> e.getName().equals("QUARKUS_CONFIG_LOCATIONS")).findFirst().orElseThrow().getValue());
            assertEquals("heterorag-truststore-password", c.getEnv().stream().filter(e -> e.getName().equals("HETERORAG_TRUST_STORE_PASSWORD"))
                    .findFirst().orElseThrow().getValueFrom().getSecretKeyRef().getName());
            assertEquals("heterorag-" + s + "-tls", pod.getVolumes().stream().filter(v -> v.getName().equals("tls")).findFirst().orElseThrow()
                    .getSecret().getSecretName());
        }
        assertTrue(all(objects("default"), ConfigMap.class).stream().noneMatch(m -> m.getMetadata().getName().endsWith("-secure")));
    }

    @Test
    void gpuPodsRequestTheDeviceOnGpuNodesWithTheGpuImageAndCuda() {
        List<HasMetadata> objs = objects("gpu");
        for (String s : List.of("generation", "retrieval")) {
            PodSpec pod = one(objs, Deployment.class, "heterorag-" + s).getSpec().getTemplate().getSpec();
            Container c = pod.getContainers().get(0);
            assertEquals(new Quantity("1"), c.getResources().getLimits().get("nvidia.com/gpu"));
            assertNotNull(c.getResources().getLimits().get("memory"), "the memory limit stays");
            assertEquals("registry.example.org/heterorag/" + s + "-service:0.1.0-gpu", c.getImage());
            assertEquals(Map.of("nvidia.com/gpu.present", "true"), pod.getNodeSelector());
            assertEquals("nvidia.com/gpu", pod.getTolerations().get(0).getKey());
            assertEquals("nvidia", pod.getRuntimeClassName());
            assertEquals("cuda", one(objs, ConfigMap.class, "heterorag-" + s).getData().get("HETERORAG_MODELS_EXECUTION_PROVIDER"));
        }
        PodSpec querygen = one(objs, Deployment.class, "heterorag-querygen").getSpec().getTemplate().getSpec();
        assertNull(querygen.getRuntimeClassName());
        assertTrue(querygen.getContainers().get(0).getImage().endsWith(":0.1.0"));
    }

    @Test
    void theKubernetesExecutorGetsAServiceAccountARoleForJobsAndASharedVolume() {
        List<HasMetadata> objs = objects("executor-kubernetes");
        PodSpec tuning = one(objs, Deployment.class, "heterorag-tuning").getSpec().getTemplate().getSpec();
        assertEquals("heterorag-tuning", tuning.getServiceAccountName());
        assertTrue(tuning.getAutomountServiceAccountToken());
        Role role = one(objs, Role.class, "heterorag-tuning-jobs");
        var jobs = role.getRules().stream().filter(r -> r.getResources().contains("jobs")).findFirst().orElseThrow();
        assertEquals(List.of("batch"), jobs.getApiGroups());
        assertTrue(jobs.getVerbs().containsAll(List.of("create", "get", "watch", "delete")), jobs.getVerbs().toString());
        assertTrue(role.getRules().stream().anyMatch(r -> r.getResources().contains("pods/log") && r.getVerbs().contains("get")));
        RoleBinding rb = one(objs, RoleBinding.class, "heterorag-tuning-jobs");
        assertEquals("heterorag-tuning-jobs", rb.getRoleRef().getName());
        assertEquals("heterorag-tuning", rb.getSubjects().get(0).getName());
        assertEquals(NS, rb.getSubjects().get(0).getNamespace());

        PersistentVolumeClaim shared = one(objs, PersistentVolumeClaim.class, "heterorag-tuning-shared");
        assertEquals(List.of("ReadWriteMany"), shared.getSpec().getAccessModes());
        assertEquals("cephfs", shared.getSpec().getStorageClassName());
        assertTrue(all(objs, PersistentVolumeClaim.class).stream().noneMatch(p -> p.getMetadata().getName().equals("heterorag-tuning-data")));
        // the serving pods read promoted bundles at the path the tuning pod wrote them
        var mount = one(objs, Deployment.class, "heterorag-generation").getSpec().getTemplate().getSpec().getContainers().get(0)
                .getVolumeMounts().stream().filter(m -> m.getName().equals("tuning-bundles")).findFirst().orElseThrow();
        assertEquals("/data/tuning", mount.getMountPath());
        assertTrue(mount.getReadOnly());

        // the names TuningConfig.Kubernetes reads (heterorag.tuning.kubernetes.*)
        Map<String, String> env = one(objs, ConfigMap.class, "heterorag-tuning").getData();
        assertEquals("kubernetes", env.get("HETERORAG_TUNING_EXECUTOR"));
        assertEquals("registry.example.org/heterorag/tuning-service:0.1.0-gpu", env.get("HETERORAG_TUNING_KUBERNETES_IMAGE"));
        assertEquals("2", env.get("HETERORAG_TUNING_KUBERNETES_GPUS"));
        assertEquals("{\"nvidia.com/gpu.product\":\"NVIDIA-H100-80GB-HBM3\"}", env.get("HETERORAG_TUNING_KUBERNETES_NODE_SELECTOR"));
        assertEquals("[{\"effect\":\"NoSchedule\",\"key\":\"nvidia.com/gpu\",\"operator\":\"Exists\"}]",
                env.get("HETERORAG_TUNING_KUBERNETES_TOLERATIONS"));
        assertEquals("heterorag-tuning-shared", env.get("HETERORAG_TUNING_KUBERNETES_VOLUME_CLAIM"));
        assertEquals("/data", env.get("HETERORAG_TUNING_KUBERNETES_VOLUME_MOUNT"));
        assertTrue(env.get("HETERORAG_TUNING_DATA_DIR").startsWith(env.get("HETERORAG_TUNING_KUBERNETES_VOLUME_MOUNT") + "/"),
                "the data dir lies on the shared volume (the executor refuses to start otherwise)");
        assertEquals("medical-datasets", env.get("HETERORAG_TUNING_KUBERNETES_DATA_CLAIM"));
        assertEquals(NS, env.get("HETERORAG_TUNING_KUBERNETES_NAMESPACE"));
        assertEquals("heterorag-tuning", env.get("HETERORAG_TUNING_KUBERNETES_CONFIG_MAP"));

        // and the API server is reachable from the tuning pod only
        NetworkPolicy np = one(objs, NetworkPolicy.class, "heterorag-tuning");
        assertTrue(np.getSpec().getEgress().stream().anyMatch(r -> r.getPorts().stream().anyMatch(p -> p.getPort().getIntVal() == 6443)));
        assertTrue(one(objs, NetworkPolicy.class, "heterorag-generation").getSpec().getEgress().stream()
                .noneMatch(r -> r.getPorts().stream().anyMatch(p -> p.getPort().getIntVal() == 6443)));
    }

    @Test
    void onlyGenerationsPublicPortIsOpenBeyondTheRelease() {
        List<HasMetadata> objs = objects("default");
        Map<String, String> release = Map.of("app.kubernetes.io/part-of", "heterorag", "app.kubernetes.io/instance", "heterorag");
        for (NetworkPolicy np : all(objs, NetworkPolicy.class)) {
            Deployment d = one(objs, Deployment.class, np.getMetadata().getName());
            for (NetworkPolicyIngressRule r : np.getSpec().getIngress()) {
                int p = r.getPorts().get(0).getPort().getIntVal();
                boolean open = r.getFrom() == null || r.getFrom().isEmpty();
                if (open) {
                    assertEquals("heterorag-generation", np.getMetadata().getName(), "open ingress only on generation");
                    assertEquals(port(d, "grpc"), p, "generation's gRPC port, nothing else");
                } else {
                    assertTrue(r.getFrom().stream().allMatch(f -> release.equals(f.getPodSelector().getMatchLabels())),
                            np.getMetadata().getName() + " port " + p + " from the release's pods only");
                }
            }
        }
        // the helm test's script carries the release labels' peers: it may read every HTTP port
        ConfigMap script = one(objs, ConfigMap.class, "heterorag-health-check");
        assertTrue(script.getMetadata().getLabels().entrySet().containsAll(release.entrySet()));
        for (String s : ChartTest.SERVICES) {
            Deployment d = one(objs, Deployment.class, "heterorag-" + s);
            assertTrue(script.getData().get("health-check.sh").contains(" heterorag-" + s + ":" + port(d, "http")), script.getData().toString());
        }
        // Qdrant egress appears with the Qdrant backend, on its port, for retrieval only
        List<HasMetadata> q = objects("qdrant");
        assertTrue(one(q, NetworkPolicy.class, "heterorag-retrieval").getSpec().getEgress().stream()
                .anyMatch(r -> r.getPorts().stream().anyMatch(p -> p.getPort().getIntVal() == 6334)));
    }

    @Test
    void kedaScalesGenerationOnItsQueueAndRetrievalOnIngestLag() {
        List<HasMetadata> objs = objects("keda");
        Map<String, GenericKubernetesResource> scaled = objs.stream().filter(GenericKubernetesResource.class::isInstance)
                .map(GenericKubernetesResource.class::cast).filter(g -> g.getKind().equals("ScaledObject"))
                .collect(Collectors.toMap(g -> g.getMetadata().getName(), g -> g));
        assertEquals(Set.of("heterorag-generation", "heterorag-retrieval"), scaled.keySet());
        Map<String, Object> gen = scaled.get("heterorag-generation").getAdditionalProperties();
        assertEquals("prometheus", ChartTest.at(gen, "spec", "triggers", 0, "type"));
        assertEquals("sum(heterorag_generation_requests_waiting{namespace=\"heterorag\",service=\"heterorag-generation\"})",
                ChartTest.at(gen, "spec", "triggers", 0, "metadata", "query"));
        assertEquals("4", ChartTest.at(gen, "spec", "triggers", 0, "metadata", "threshold"));
        assertEquals("cpu", ChartTest.at(gen, "spec", "triggers", 1, "type"));
        Map<String, Object> ret = scaled.get("heterorag-retrieval").getAdditionalProperties();
        assertEquals("kafka", ChartTest.at(ret, "spec", "triggers", 0, "type"));
        assertEquals("retrieval-service", ChartTest.at(ret, "spec", "triggers", 0, "metadata", "consumerGroup"));
        assertEquals("heterorag.atlas.ingest", ChartTest.at(ret, "spec", "triggers", 0, "metadata", "topic"));
        assertEquals("kafka.kafka.svc:9092", ChartTest.at(ret, "spec", "triggers", 0, "metadata", "bootstrapServers"));
        // no CRD schema offline: the field names are those of KEDA's ScaledObject model (keda.sh/v1alpha1, as listed by
        // npm @kubernetes-models/keda 2.0.0: ScaledObjectSpec, ScaleTriggers), and the required ones are there
        Set<String> specFields = Set.of("scaleTargetRef", "pollingInterval", "cooldownPeriod", "minReplicaCount", "maxReplicaCount",
                "triggers", "advanced", "fallback", "idleReplicaCount", "initialCooldownPeriod");
        Set<String> triggerFields = Set.of("type", "metadata", "metricType", "name", "authenticationRef", "useCachedMetrics");
        for (GenericKubernetesResource g : scaled.values()) {
            Map<String, Object> spec = ChartTest.at(g.getAdditionalProperties(), "spec");
            assertTrue(specFields.containsAll(spec.keySet()), spec.keySet().toString());
            assertTrue(spec.containsKey("scaleTargetRef") && spec.containsKey("triggers"));
            for (Map<String, Object> t : ChartTest.<List<Map<String, Object>>>at(spec, "triggers")) {
                assertTrue(triggerFields.containsAll(t.keySet()), t.keySet().toString());
                ((Map<?, ?>) t.get("metadata")).values().forEach(v -> assertTrue(v instanceof String, "trigger metadata are strings: " + v));
            }
        }
        assertEquals(List.of("heterorag-querygen"), all(objs, HorizontalPodAutoscaler.class).stream()
                .map(h -> h.getMetadata().getName()).toList(), "querygen keeps its HPA");

        GenericKubernetesResource sm = objs.stream().filter(GenericKubernetesResource.class::isInstance)
                .map(GenericKubernetesResource.class::cast).filter(g -> g.getKind().equals("ServiceMonitor")).findFirst().orElseThrow();
        assertEquals("prometheus", sm.getMetadata().getLabels().get("release"));
        // field names of the Prometheus Operator's ServiceMonitorSpec (npm @kubernetes-models/prometheus-operator 6.0.0)
        assertEquals(Set.of("selector", "namespaceSelector", "endpoints"),
                ChartTest.<Map<String, Object>>at(sm.getAdditionalProperties(), "spec").keySet());
        Map<String, Object> ep = ChartTest.at(sm.getAdditionalProperties(), "spec", "endpoints", 0);
        assertEquals(Set.of("port", "path", "interval"), ep.keySet());
        assertEquals("http", ep.get("port"));
        assertEquals("/q/metrics", ep.get("path"));
        Map<String, String> selector = ChartTest.at(sm.getAdditionalProperties(), "spec", "selector", "matchLabels");
        assertEquals(4, all(objs, Service.class).stream().filter(s -> selects(selector, s.getMetadata().getLabels())).count(),
                "the ServiceMonitor selects the four Services");
        // the monitoring namespace may scrape the HTTP ports
        assertTrue(one(objs, NetworkPolicy.class, "heterorag-querygen").getSpec().getIngress().get(1).getFrom().stream()
                .anyMatch(f -> f.getNamespaceSelector() != null));
    }

    /**
     * The `helm test` script, run with bash against local HTTP servers standing in for the services:
     * ready with a gRPC Server check passes; not ready (503), or ready without the gRPC check, fails.
     */
    @Test
    void theHelmTestScriptPassesReadyServicesAndFailsTheOthers() throws Exception {
        String script = one(objects("default"), ConfigMap.class, "heterorag-health-check").getData().get("health-check.sh");
        Path file = Files.writeString(Files.createDirectories(Path.of("target")).resolve("health-check.sh"), script);
        String ready = "{\"status\":\"UP\",\"checks\":[{\"name\":\"gRPC Server\",\"status\":\"UP\"}]}";
        HttpServer up = server(200, ready);
        HttpServer down = server(503, ready.replace("UP", "DOWN"));
        HttpServer noGrpc = server(200, "{\"status\":\"UP\",\"checks\":[]}");
        try {
            Run ok = bash(file, "127.0.0.1:" + up.getAddress().getPort());
            assertEquals(0, ok.exit(), ok.out());
            assertTrue(ok.out().contains("OK   127.0.0.1:" + up.getAddress().getPort() + " ready, gRPC Server UP"), ok.out());
            Run bad = bash(file, "127.0.0.1:" + up.getAddress().getPort(), "127.0.0.1:" + down.getAddress().getPort(),
                    "127.0.0.1:" + noGrpc.getAddress().getPort());
            assertEquals(1, bad.exit(), bad.out());
            assertTrue(bad.out().contains("FAIL 127.0.0.1:" + down.getAddress().getPort() + " HTTP/1.1 503"), bad.out());
            assertTrue(bad.out().contains("no gRPC Server check"), bad.out());
            int closed = up.getAddress().getPort();
            up.stop(0);
            Run unreachable = bash(file, "127.0.0.1:" + closed);
            assertEquals(1, unreachable.exit(), unreachable.out());
            assertTrue(unreachable.out().contains("unreachable"), unreachable.out());
        } finally {
            up.stop(0);
            down.stop(0);
            noGrpc.stop(0);
        }
    }

    record Run(int exit, String out) {
    }

    static Run bash(Path script, String... targets) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash", script.toString()));
        cmd.addAll(List.of(targets));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Run(p.waitFor(), out);
    }

    static HttpServer server(int status, String body) throws Exception {
        HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        s.createContext("/q/health/ready", x -> {
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            x.getResponseHeaders().add("Content-Type", "application/json");
            x.sendResponseHeaders(status, b.length);
            x.getResponseBody().write(b);
            x.close();
        });
        s.start();
        return s;
    }

    static String refusal(String valueSet, Object... sets) {
        return assertThrows(IllegalStateException.class, () -> render(valueSet, sets), "accepted: " + List.of(sets)).getMessage();
    }

    @Test
    void theSchemaAndTheChartRefuseBadValuesWithAMessage() {
        // value key, bad value, what the message must say
        List<List<String>> cases = List.of(
                List.of("services.generation.replicas", "0", "services.generation.replicas: Must be greater than or equal to 1"),
                List.of("image.pullPolicy", "Sometimes", "pullPolicy"),
                List.of("store.backend", "elastic", "backend"),
                List.of("services.tuning.replicas", "2", "services.tuning.replicas"),
                List.of("services.generation.grpcPort", "grpc", "grpcPort"),
                List.of("services.generation.gpuu.enabled", "true", "gpuu"),
                List.of("services.tuning.executor.kind", "slurm", "kind"),
                // across values (templates): a budget that would block every drain, the embedded store on two pods
                List.of("services.querygen.pdb.minAvailable", "2", "services.querygen.pdb.minAvailable (2) must be below the pods it runs (2"),
                List.of("services.retrieval.replicas", "2", "store.backend embedded"),
                List.of("services.querygen.autoscaling.minReplicas", "9", "minReplicas must not exceed maxReplicas"));
        for (List<String> c : cases) {
            String msg = refusal("default", c.get(0), c.get(1));
            assertTrue(msg.contains(c.get(2)), c + " -> " + msg);
        }
    }
}

package io.heterorag.helm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/** The chart, linted and rendered by real Helm (helm-java runs Helm's Go code in-process). */
class ChartTest {

    static final Path CHART = Path.of(System.getProperty("chart.dir", "heterorag"));
    static final Path K8S = Path.of(System.getProperty("k8s.file", "../k8s/heterorag.yaml"));
    static final List<String> SERVICES = List.of("retrieval", "querygen", "generation", "tuning");

    static String render(Object... sets) {
        var t = new Helm(CHART).template().withName("heterorag").withNamespace("heterorag");
        for (int i = 0; i < sets.length; i += 2) {
            t = t.set((String) sets[i], sets[i + 1]);
        }
        return t.call();
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> docs(String yaml) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object o : new Yaml().loadAll(yaml)) {
            if (o != null) {
                out.add((Map<String, Object>) o);
            }
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> find(List<Map<String, Object>> docs, String kind, String name) {
        return docs.stream().filter(d -> kind.equals(d.get("kind"))
                && name.equals(((Map<String, Object>) d.get("metadata")).get("name"))).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " " + name));
    }

    @SuppressWarnings("unchecked")
    static <T> T at(Object node, Object... path) {
        Object cur = node;
        for (Object p : path) {
            cur = p instanceof Integer i ? ((List<Object>) cur).get(i) : ((Map<String, Object>) cur).get(p);
        }
        return (T) cur;
    }

    @Test
    void lintsCleanlyInStrictMode() {
        LintResult r = new Helm(CHART).lint().strict().call();
        assertFalse(r.isFailed(), String.join("\n", r.getMessages()));
    }

    @Test
    void everyServiceGetsADeploymentWithProbesAServiceAndAConfigMap() {
        List<Map<String, Object>> docs = docs(render());
        for (String s : SERVICES) {
            String name = "heterorag-" + s;
            Map<String, Object> container = at(find(docs, "Deployment", name), "spec", "template", "spec", "containers", 0);
            assertEquals("/q/health/live", at(container, "livenessProbe", "httpGet", "path"));
            assertEquals("/q/health/ready", at(container, "readinessProbe", "httpGet", "path"));
            assertEquals("/q/health/started", at(container, "startupProbe", "httpGet", "path"));
            assertTrue(((Map<?, ?>) at(container, "resources", "requests")).containsKey("memory"), s + " requests memory");
            assertTrue(((Map<?, ?>) at(container, "resources", "limits")).containsKey("memory"), s + " limits memory");
            assertEquals(name, at(container, "envFrom", 0, "configMapRef", "name"));
            List<Map<String, Object>> ports = at(find(docs, "Service", name), "spec", "ports");
            assertEquals(List.of("grpc", "http"), ports.stream().map(p -> p.get("name")).toList());
            Map<String, String> data = at(find(docs, "ConfigMap", name), "data");
            assertEquals("kafka.kafka.svc:9092", data.get("KAFKA_BOOTSTRAP_SERVERS"));
            assertEquals(String.valueOf(ports.get(0).get("port")), data.get("QUARKUS_GRPC_SERVER_PORT"));
        }
        find(docs, "PersistentVolumeClaim", "heterorag-retrieval-data");
        find(docs, "PersistentVolumeClaim", "heterorag-tuning-data");
        Map<String, String> gen = at(find(docs, "ConfigMap", "heterorag-generation"), "data");
        assertEquals("heterorag-retrieval", gen.get("QUARKUS_GRPC_CLIENTS_RETRIEVAL_HOST"));
        assertEquals("9102", gen.get("QUARKUS_GRPC_CLIENTS_QUERYGEN_PORT"));
    }

    @Test
    void kafkaAndTheQdrantBackendAreValues() {
        List<Map<String, Object>> docs = docs(render("kafka.bootstrapServers", "broker-0:9093,broker-1:9093",
                "store.backend", "qdrant", "qdrant.host", "qdrant.prod", "qdrant.grpcPort", "16334", "qdrant.shards", "6",
                "qdrant.apiKeySecret.name", "qdrant-key", "models.rerankerBundle", "/models/ce",
                "services.retrieval.persistence.enabled", "false"));
        for (String s : SERVICES) {
            Map<String, String> data = at(find(docs, "ConfigMap", "heterorag-" + s), "data");
            assertEquals("broker-0:9093,broker-1:9093", data.get("KAFKA_BOOTSTRAP_SERVERS"));
        }
        // names Quarkus maps onto heterorag.store.qdrant.* and heterorag.models.reranker-bundle
        Map<String, String> retrieval = at(find(docs, "ConfigMap", "heterorag-retrieval"), "data");
        assertEquals("qdrant", retrieval.get("HETERORAG_STORE_BACKEND"));
        assertEquals("qdrant.prod", retrieval.get("HETERORAG_STORE_QDRANT_HOST"));
        assertEquals("16334", retrieval.get("HETERORAG_STORE_QDRANT_PORT"));
        assertEquals("6", retrieval.get("HETERORAG_STORE_QDRANT_SHARDS"));
        assertEquals("/models/ce", retrieval.get("HETERORAG_MODELS_RERANKER_BUNDLE"));
        Map<String, Object> key = at(find(docs, "Deployment", "heterorag-retrieval"), "spec", "template", "spec", "containers", 0, "env", 1);
        assertEquals("HETERORAG_STORE_QDRANT_API_KEY", key.get("name"));
        assertEquals("qdrant-key", at(key, "valueFrom", "secretKeyRef", "name"));
        assertTrue(docs.stream().noneMatch(d -> "heterorag-retrieval-data".equals(at(d, "metadata", "name"))));
    }

    /** k8s/heterorag.yaml is the chart rendered with its defaults; -Dk8s.update=true rewrites it. */
    @Test
    void plainManifestsAreTheRenderedChart() throws Exception {
        String rendered = "# Generated from helm/heterorag with default values (release heterorag, namespace heterorag).\n"
                + "# Do not edit: change the chart, then run: mvn -pl helm test -Dk8s.update=true\n" + render();
        if (Boolean.getBoolean("k8s.update")) {
            Files.writeString(K8S, rendered);
        }
        assertTrue(Objects.equals(rendered, Files.readString(K8S)),
                K8S + " is out of date: run mvn -pl helm test -Dk8s.update=true");
    }
}

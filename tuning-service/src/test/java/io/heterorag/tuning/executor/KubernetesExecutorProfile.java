package io.heterorag.tuning.executor;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTestProfile;

/** The tuning service with heterorag.tuning.executor=kubernetes, its API server fabric8's CRUD mock. */
public class KubernetesExecutorProfile implements QuarkusTestProfile {

    static final String NAMESPACE = "heterorag";

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("heterorag.tuning.executor", "kubernetes",
                "heterorag.tuning.kubernetes.namespace", NAMESPACE,
                "heterorag.tuning.kubernetes.image", "registry.example.org/heterorag/tuning-service:0.1.0-gpu",
                "heterorag.tuning.kubernetes.volume-claim", "heterorag-shared",
                // target/ plays the shared volume: the data dir and the test's training files lie under it
                "heterorag.tuning.kubernetes.volume-mount", Path.of("target").toAbsolutePath().toString(),
                "heterorag.tuning.kubernetes.poll-interval", "0.1s");
    }

    @Override
    public List<TestResourceEntry> testResources() {
        return List.of(new TestResourceEntry(Server.class));
    }

    /** Starts the mock API server; the test reaches it through {@link #k8s}. */
    public static class Server implements QuarkusTestResourceLifecycleManager {

        static MockKubernetes k8s;

        @Override
        public Map<String, String> start() {
            k8s = new MockKubernetes();
            return Map.of("heterorag.tuning.kubernetes.master-url", k8s.url());
        }

        @Override
        public void stop() {
            k8s.close();
        }
    }
}

package io.heterorag.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import io.qdrant.client.grpc.Collections;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The collection contract against the Qdrant backend. By default it talks to {@link QdrantTestServer}
 * (Qdrant's gRPC API, modelled); with {@code -Dheterorag.test.qdrant=HOST:PORT} the same tests run
 * against a real Qdrant's gRPC port, in collections prefixed with a random run id.
 */
class QdrantCollectionTest extends VectorCollectionContract {

    static final String REAL = System.getProperty("heterorag.test.qdrant", "");
    static QdrantTestServer server;
    static QdrantStore store;
    static final java.util.Set<String> opened = java.util.concurrent.ConcurrentHashMap.newKeySet();

    @BeforeAll
    static void connect() {
        String host = "127.0.0.1";
        int port;
        if (REAL.isBlank()) {
            server = new QdrantTestServer();
            port = server.port();
        } else {
            host = REAL.substring(0, REAL.lastIndexOf(':'));
            port = Integer.parseInt(REAL.substring(REAL.lastIndexOf(':') + 1));
        }
        QdrantStore.Settings local = QdrantStore.Settings.local(port);
        store = new QdrantStore(new QdrantStore.Settings(host, port, false, "", "heterorag_test_" + UUID.randomUUID().toString()
                .substring(0, 8) + "_", local.hnswM(), local.hnswEfConstruct(), local.int8(), 1, 1, 128, 30));
    }

    @AfterAll
    static void disconnect() {
        opened.forEach(name -> store.collection(name).drop()); // leave a real Qdrant as it was
        store.close();
        if (server != null) {
            server.close();
        }
    }

    @Override
    VectorCollection open(String name) {
        opened.add(name);
        return store.collection(name);
    }

    @Test
    void collectionsAreCreatedWithTheConfiguredIndexAndPayloadIndexes() {
        Assumptions.assumeTrue(server != null, "inspects the test endpoint's state");
        QdrantCollection c = store.collection("settings");
        c.upsert(List.of(entry("a", "a", "h", "text", Map.of("source", "s"), 1, 0, 0)));
        QdrantTestServer.Coll created = server.collections.get(c.collectionName());
        Collections.CreateCollection cfg = created.config;
        assertEquals(3, cfg.getVectorsConfig().getParamsMap().getMapOrThrow(QdrantCollection.DENSE).getSize());
        assertEquals(Collections.Distance.Cosine, cfg.getVectorsConfig().getParamsMap().getMapOrThrow(QdrantCollection.DENSE).getDistance());
        assertEquals(Collections.Modifier.Idf, cfg.getSparseVectorsConfig().getMapOrThrow(QdrantCollection.SPARSE).getModifier());
        assertEquals(16, cfg.getHnswConfig().getM());
        assertEquals(Collections.QuantizationType.Int8, cfg.getQuantizationConfig().getScalar().getType());
        assertTrue(cfg.getOnDiskPayload());
        assertTrue(cfg.getVectorsConfig().getParamsMap().getMapOrThrow(QdrantCollection.DENSE).getOnDisk());
        for (String f : VectorCollection.FILTER_FIELDS) {
            assertTrue(created.indexed.contains("meta." + f), f);
        }
        assertTrue(created.indexed.contains("group"));
        // the one entry, stored through the batched upsert path
        assertEquals(1, c.count());
    }

    @Test
    void anUnreachableServerIsReportedNotServingAndUseFailsClearly() {
        try (QdrantStore nowhere = new QdrantStore(QdrantStore.Settings.local(1))) {
            assertTrue(!nowhere.reachable());
            // opening does not call the server (a service starts, and is not ready, while Qdrant is down)
            QdrantCollection c = nowhere.collection("x");
            assertTrue(!c.isOpen());
            IllegalStateException e = assertThrows(IllegalStateException.class, c::count);
            assertTrue(e.getMessage().contains("UNAVAILABLE"), e.getMessage());
        }
    }
}

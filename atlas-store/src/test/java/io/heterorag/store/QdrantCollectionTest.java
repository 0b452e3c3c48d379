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

    @Override
    CollectionAliases aliases() {
        return store;
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

    @Test
    void documentTermsAreBm25sDocumentSide() {
        // "Fractures, fracture and the femur" → terms fractur, fractur, femur ("and", "the" are stop words): 3 terms
        // norm = k1·(1 − b + b·3/120) = 1.2·(0.25 + 0.01875) = 0.3225
        // fractur (tf 2): 2·(1.2 + 1)/(2 + 0.3225) = 4.4/2.3225 = 1.8945102; femur (tf 1): 2.2/1.3225 = 1.6635161
        Map<Integer, Float> w = QdrantCollection.documentTerms("Fractures, fracture and the femur");
        assertEquals(java.util.Set.of(QdrantCollection.termIndex("fractur"), QdrantCollection.termIndex("femur")), w.keySet());
        assertEquals(1.8945102f, w.get(QdrantCollection.termIndex("fractur")), 1e-6);
        assertEquals(1.6635161f, w.get(QdrantCollection.termIndex("femur")), 1e-6);
        // 240 terms, twice the assumed average: norm = 1.2·(0.25 + 0.75·2) = 2.1; tf 1 → 2.2/3.1 = 0.7096774
        String longText = "femur " + java.util.stream.IntStream.range(1, 240).mapToObj(i -> "w" + i)
                .collect(java.util.stream.Collectors.joining(" "));
        assertEquals(0.7096774f, QdrantCollection.documentTerms(longText).get(QdrantCollection.termIndex("femur")), 1e-6);
        // the index is the term's hash with the sign bit cleared ("polygenelubricants" hashes to Integer.MIN_VALUE)
        assertEquals(0, QdrantCollection.termIndex("polygenelubricants"));
    }

    @Test
    void aConfiguredApiKeyIsSentWithEveryCall() {
        try (QdrantTestServer s = new QdrantTestServer();
                QdrantStore keyed = new QdrantStore(new QdrantStore.Settings("127.0.0.1", s.port(), false, "s3cret", "k_", 16, 100,
                        false, 1, 1, 64, 30))) {
            QdrantCollection c = keyed.collection("keyed");
            c.upsert(List.of(entry("a", "a", "h", "text", Map.of(), 1, 0)));
            assertEquals(1, c.count());
            assertEquals("1.15.0-test", keyed.version());
            assertTrue(s.apiKeys.keySet().containsAll(List.of("qdrant.Collections/Create", "qdrant.Points/Upsert",
                    "qdrant.Points/Count", "qdrant.Qdrant/HealthCheck")), s.apiKeys.keySet().toString());
            s.apiKeys.forEach((method, keys) -> assertEquals(java.util.Set.of("s3cret"), java.util.Set.copyOf(keys), method));
            // batch 64: 128 points go in exactly two upsert calls
            List<VectorCollection.Entry> many = new java.util.ArrayList<>();
            for (int i = 0; i < 128; i++) {
                many.add(entry("m" + i, "m" + i, "h", "text", Map.of(), 1, 0));
            }
            int before = s.apiKeys.get("qdrant.Points/Upsert").size();
            c.upsert(many);
            assertEquals(before + 2, s.apiKeys.get("qdrant.Points/Upsert").size());
            assertEquals(129, c.count());
            // int8 off: no quantization configured
            assertTrue(!s.collections.get("k_keyed").config.hasQuantizationConfig());
        }
        try (QdrantTestServer s = new QdrantTestServer(); QdrantStore open = new QdrantStore(QdrantStore.Settings.local(s.port()))) {
            assertEquals(0, open.collection("x").count());
            assertTrue(open.reachable());
            assertEquals(java.util.Set.of("qdrant.Collections/CollectionExists", "qdrant.Qdrant/HealthCheck"), s.apiKeys.keySet());
            s.apiKeys.forEach((method, keys) -> assertEquals(java.util.Set.of(""), java.util.Set.copyOf(keys), method));
        }
    }
}

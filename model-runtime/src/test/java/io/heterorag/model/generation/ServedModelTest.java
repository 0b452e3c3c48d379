package io.heterorag.model.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

/** A swapped-out model serves its requests to the end and is closed once, after the last. */
class ServedModelTest {

    static final class Model implements AutoCloseable {
        final AtomicInteger closed = new AtomicInteger();

        @Override
        public void close() {
            closed.incrementAndGet();
        }
    }

    @Test
    void aReplacedModelIsClosedOnceAfterItsLastRequest() {
        Model a = new Model();
        Model b = new Model();
        ServedModel<Model> served = new ServedModel<>(a);
        assertSame(a, served.peek());
        ServedModel.Lease<Model> l1 = served.acquire();
        ServedModel.Lease<Model> l2 = served.acquire();
        assertSame(a, l1.model());

        served.swap(b);
        assertSame(b, served.peek());
        try (ServedModel.Lease<Model> l3 = served.acquire()) {
            assertSame(b, l3.model(), "new requests get the new model");
        }
        assertEquals(0, b.closed.get(), "the current model stays open after its requests");
        l1.close();
        l1.close(); // closing a lease twice releases once
        assertEquals(0, a.closed.get(), "a request still holds it");
        l2.close();
        assertEquals(1, a.closed.get());

        served.close();
        assertEquals(1, b.closed.get());
        assertEquals(1, a.closed.get());
    }

    @Test
    void anUnusedReplacedModelIsClosedAtOnceAndNoModelIsServedAsNull() {
        Model a = new Model();
        ServedModel<Model> served = new ServedModel<>(a);
        served.swap(null);
        assertEquals(1, a.closed.get());
        try (ServedModel.Lease<Model> l = served.acquire()) {
            assertNull(l.model(), "a rule-based fallback serves no model");
        }
        served.close(); // nothing to close
        assertTrue(served.peek() == null);
        assertFalse(a.closed.get() > 1);
    }

    @Test
    void aModelThatFailsToCloseIsLoggedNotThrown() {
        ServedModel<AutoCloseable> served = new ServedModel<>(() -> {
            throw new IllegalStateException("closing failed");
        });
        served.swap(() -> {
        });
        assertTrue(served.peek() != null);
    }
}

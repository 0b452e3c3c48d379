package io.heterorag.model.generation;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Logger;

/**
 * The model a service serves now, swappable while requests run: a request holds the model it
 * started with ({@link #acquire}) and a replaced model is closed after its last request.
 * generation-service serves its answerer with it, querygen-service its query writer.
 */
public final class ServedModel<T extends AutoCloseable> implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ServedModel.class.getName());

    private final AtomicReference<Handle<T>> current = new AtomicReference<>();

    public ServedModel(T initial) {
        current.set(new Handle<>(initial));
    }

    /** The model for one request; close the lease when the request is done with it. */
    public Lease<T> acquire() {
        while (true) {
            Handle<T> h = current.get();
            if (h.retain()) {
                return new Lease<>(h);
            }
            // swapped out and closed between get and retain: the new one is current
        }
    }

    /** The model new requests get (do not close it; it may be swapped out meanwhile). */
    public T peek() {
        return current.get().model;
    }

    /** Serves {@code next} from the next request on; the replaced model is closed after its last request. */
    public void swap(T next) {
        current.getAndSet(new Handle<>(next)).release();
    }

    @Override
    public void close() {
        current.get().release();
    }

    private static final class Handle<T extends AutoCloseable> {
        final T model;
        /** Users, plus one for being current. */
        final AtomicInteger users = new AtomicInteger(1);

        Handle(T model) {
            this.model = model;
        }

        boolean retain() {
            int n;
            do {
                n = users.get();
                if (n == 0) {
                    return false;
                }
            } while (!users.compareAndSet(n, n + 1));
            return true;
        }

        void release() {
            if (users.decrementAndGet() == 0 && model != null) {
                try {
                    model.close();
                } catch (Exception e) {
                    LOG.warning("closing a replaced model failed: " + e.getMessage());
                }
            }
        }
    }

    /** One request's hold on a model. */
    public static final class Lease<T extends AutoCloseable> implements AutoCloseable {
        private final Handle<T> handle;
        private boolean closed;

        private Lease(Handle<T> handle) {
            this.handle = handle;
        }

        /** The model (null when the service serves none: e.g. a rule-based fallback). */
        public T model() {
            return handle.model;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                handle.release();
            }
        }
    }
}

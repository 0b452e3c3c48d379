package io.heterorag.retrieval.health;

import jakarta.enterprise.context.ApplicationScoped;

import io.heterorag.retrieval.store.VectorStore;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready while every collection of the vector store is open. */
@Readiness
@ApplicationScoped
public class StoreReadiness implements HealthCheck {

    private final VectorStore store;

    public StoreReadiness(VectorStore store) {
        this.store = store;
    }

    @Override
    public HealthCheckResponse call() {
        var b = HealthCheckResponse.named("vector-store").status(store.isOpen());
        store.counts().forEach(b::withData);
        return b.build();
    }
}

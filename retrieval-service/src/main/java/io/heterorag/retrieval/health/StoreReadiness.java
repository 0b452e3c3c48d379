package io.heterorag.retrieval.health;

import jakarta.enterprise.context.ApplicationScoped;

import io.heterorag.retrieval.store.ReportRepositories;
import io.heterorag.retrieval.store.VectorStore;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready while every collection (report repositories and corpora) is open and its backend reachable. */
@Readiness
@ApplicationScoped
public class StoreReadiness implements HealthCheck {

    private final VectorStore store;
    private final ReportRepositories reports;

    public StoreReadiness(VectorStore store, ReportRepositories reports) {
        this.store = store;
        this.reports = reports;
    }

    @Override
    public HealthCheckResponse call() {
        boolean up = store.isOpen() && reports.isOpen();
        var b = HealthCheckResponse.named("vector-store").status(up);
        if (up) { // counts need the backend (a Qdrant server may be unreachable)
            reports.counts().forEach(b::withData);
            store.counts().forEach(b::withData);
        }
        return b.build();
    }
}

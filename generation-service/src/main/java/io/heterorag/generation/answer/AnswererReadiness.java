package io.heterorag.generation.answer;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Which answerer serves, and its load. Always up once started: a configured generator bundle that
 * does not load stops the service at startup instead of serving the extractive answerer unnoticed.
 */
@Readiness
@ApplicationScoped
public class AnswererReadiness implements HealthCheck {

    private final ServedAnswerer served;

    public AnswererReadiness(ServedAnswerer served) {
        this.served = served;
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("answerer").up().withData("answerer", served.id())
                .withData("waiting", served.metrics().waiting()).withData("decoding", served.metrics().decoding()).build();
    }
}

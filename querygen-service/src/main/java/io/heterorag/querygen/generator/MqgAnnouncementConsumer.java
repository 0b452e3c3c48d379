package io.heterorag.querygen.generator;

import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import io.heterorag.model.bundle.ModelAnnouncements;
import io.smallrye.common.annotation.Blocking;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Serves the query generators announced on heterorag.models (kind "mqg"), as generation-service
 * follows kind "generator": each pod reads the topic in its own consumer group from the start, and of
 * a poll's announcements only the newest that loads is served ({@link ModelAnnouncements#serveNewest}).
 */
@ApplicationScoped
public class MqgAnnouncementConsumer {

    public static final String KIND = "mqg";

    private final ServedQueryWriter served;

    public MqgAnnouncementConsumer(ServedQueryWriter served) {
        this.served = served;
    }

    @Incoming("models")
    @Blocking
    public void onAnnouncements(List<byte[]> values) {
        ModelAnnouncements.serveNewest(values, KIND, served::swapTo);
    }
}

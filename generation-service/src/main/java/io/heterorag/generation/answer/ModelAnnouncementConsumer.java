package io.heterorag.generation.answer;

import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import io.heterorag.model.bundle.ModelAnnouncements;
import io.smallrye.common.annotation.Blocking;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Serves the generators announced on heterorag.models (kind "generator"): each is loaded and swapped
 * in. Every replica must follow, so each pod reads the topic in its own consumer group (see
 * application.properties), from the start: a restarted pod ends on the last generator announced.
 * A bundle that does not load is logged; the newest one of the same poll that loads is served instead
 * ({@link ModelAnnouncements#serveNewest}), else the current answerer stays.
 */
@ApplicationScoped
public class ModelAnnouncementConsumer {

    private final ServedAnswerer served;

    public ModelAnnouncementConsumer(ServedAnswerer served) {
        this.served = served;
    }

    /** A poll's announcements, oldest first. */
    @Incoming("models")
    @Blocking
    public void onAnnouncements(List<byte[]> values) {
        ModelAnnouncements.serveNewest(values, "generator", served::swapTo);
    }
}

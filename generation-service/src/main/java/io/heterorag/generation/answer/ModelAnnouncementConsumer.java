package io.heterorag.generation.answer;

import java.nio.file.Path;

import jakarta.enterprise.context.ApplicationScoped;

import com.google.protobuf.InvalidProtocolBufferException;
import io.heterorag.proto.v1.ModelAnnouncement;
import io.quarkus.logging.Log;
import io.smallrye.common.annotation.Blocking;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Serves the generators announced on heterorag.models (kind "generator"): each is loaded and swapped
 * in. Every replica must follow, so each pod reads the topic in its own consumer group (see
 * application.properties), from the start: a restarted pod ends on the last generator announced.
 * A bundle that does not load is logged and the current answerer stays.
 */
@ApplicationScoped
public class ModelAnnouncementConsumer {

    private final ServedAnswerer served;

    public ModelAnnouncementConsumer(ServedAnswerer served) {
        this.served = served;
    }

    @Incoming("models")
    @Blocking
    public void onAnnouncement(byte[] value) {
        ModelAnnouncement m;
        try {
            m = ModelAnnouncement.parseFrom(value);
        } catch (InvalidProtocolBufferException e) {
            Log.warnf("skipping a malformed model announcement of %d bytes", value == null ? 0 : value.length);
            return;
        }
        if (!m.getKind().equals("generator")) {
            return; // other services serve other kinds
        }
        try {
            served.swapTo(Path.of(m.getBundleUri()));
        } catch (RuntimeException e) {
            Log.errorf("announced generator %s@%s (%s) not served: %s", m.getName(), m.getVersion(), m.getBundleUri(),
                    e.getMessage());
        }
    }
}

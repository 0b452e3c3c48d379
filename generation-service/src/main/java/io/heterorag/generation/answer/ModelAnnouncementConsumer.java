package io.heterorag.generation.answer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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
 * A bundle that does not load is logged; the newest one of the same poll that loads is served instead,
 * else the current answerer stays.
 */
@ApplicationScoped
public class ModelAnnouncementConsumer {

    private final ServedAnswerer served;

    public ModelAnnouncementConsumer(ServedAnswerer served) {
        this.served = served;
    }

    /**
     * A poll's announcements, oldest first. Only the newest generator that loads is served: a pod
     * that starts replays the topic in one or a few polls and so loads one bundle, not every bundle
     * ever announced.
     */
    @Incoming("models")
    @Blocking
    public void onAnnouncements(List<byte[]> values) {
        List<ModelAnnouncement> generators = new ArrayList<>();
        for (byte[] value : values) {
            try {
                ModelAnnouncement m = ModelAnnouncement.parseFrom(value);
                if (m.getKind().equals("generator")) {
                    generators.add(m); // other services serve other kinds
                }
            } catch (InvalidProtocolBufferException e) {
                Log.warnf("skipping a malformed model announcement of %d bytes", value == null ? 0 : value.length);
            }
        }
        for (int i = generators.size() - 1; i >= 0; i--) {
            ModelAnnouncement m = generators.get(i);
            try {
                served.swapTo(Path.of(m.getBundleUri()));
                if (i > 0) {
                    Log.infof("%d older generator announcement(s) of the same poll not loaded", i);
                }
                return;
            } catch (RuntimeException e) {
                Log.errorf("announced generator %s@%s (%s) not served: %s", m.getName(), m.getVersion(), m.getBundleUri(),
                        e.getMessage());
            }
        }
    }
}

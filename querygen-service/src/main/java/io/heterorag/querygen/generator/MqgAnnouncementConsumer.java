package io.heterorag.querygen.generator;

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
 * Serves the query generators announced on heterorag.models (kind "mqg"), as generation-service
 * follows kind "generator": each pod reads the topic in its own consumer group from the start, and of
 * a poll's announcements only the newest that loads is served (a replay loads one bundle).
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
        List<ModelAnnouncement> mqgs = new ArrayList<>();
        for (byte[] value : values) {
            try {
                ModelAnnouncement m = ModelAnnouncement.parseFrom(value);
                if (m.getKind().equals(KIND)) {
                    mqgs.add(m);
                }
            } catch (InvalidProtocolBufferException e) {
                Log.warnf("skipping a malformed model announcement of %d bytes", value == null ? 0 : value.length);
            }
        }
        for (int i = mqgs.size() - 1; i >= 0; i--) {
            ModelAnnouncement m = mqgs.get(i);
            try {
                served.swapTo(Path.of(m.getBundleUri()));
                return;
            } catch (RuntimeException e) {
                Log.errorf("announced query generator %s@%s (%s) not served: %s", m.getName(), m.getVersion(), m.getBundleUri(),
                        e.getMessage());
            }
        }
    }
}

package io.heterorag.model.bundle;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.logging.Logger;

import com.google.protobuf.InvalidProtocolBufferException;
import io.heterorag.proto.v1.ModelAnnouncement;

/**
 * How a serving service follows heterorag.models for the one kind of model it serves (generation-service
 * "generator", querygen-service "mqg"): of a poll's announcements only the newest that loads is served,
 * so a pod that starts and replays the topic loads one bundle, not every bundle ever announced.
 */
public final class ModelAnnouncements {

    private static final Logger LOG = Logger.getLogger(ModelAnnouncements.class.getName());

    private ModelAnnouncements() {
    }

    /**
     * Serves the newest announcement of {@code kind} in {@code poll} (oldest first) whose bundle
     * {@code swapTo} loads (it throws for one that does not: logged, and the next newer-to-older one is
     * tried). Malformed messages are skipped, logged by size; other kinds are left to other services.
     * Returns the announcement served, if any.
     */
    public static Optional<ModelAnnouncement> serveNewest(List<byte[]> poll, String kind, Consumer<Path> swapTo) {
        List<ModelAnnouncement> ofKind = new ArrayList<>();
        for (byte[] value : poll) {
            try {
                ModelAnnouncement m = ModelAnnouncement.parseFrom(value == null ? new byte[0] : value);
                if (m.getKind().equals(kind)) {
                    ofKind.add(m);
                }
            } catch (InvalidProtocolBufferException e) {
                LOG.warning(String.format("skipping a malformed model announcement of %d bytes", value == null ? 0 : value.length));
            }
        }
        for (int i = ofKind.size() - 1; i >= 0; i--) {
            ModelAnnouncement m = ofKind.get(i);
            try {
                swapTo.accept(Path.of(m.getBundleUri()));
                if (i > 0) {
                    LOG.info(String.format("%d older %s announcement(s) of the same poll not loaded", i, kind));
                }
                return Optional.of(m);
            } catch (RuntimeException e) {
                LOG.severe(String.format("announced %s %s@%s (%s) not served: %s", kind, m.getName(), m.getVersion(), m.getBundleUri(),
                        e.getMessage()));
            }
        }
        return Optional.empty();
    }
}

package io.heterorag.retrieval.ingest;

import java.nio.file.Path;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import com.google.protobuf.InvalidProtocolBufferException;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.ModelAnnouncement;
import io.heterorag.retrieval.store.ReportRepositories;
import io.quarkus.logging.Log;
import io.smallrye.common.annotation.Blocking;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Serves the image encoders announced on heterorag.models, through two consumer groups: the shared
 * one hands each announcement to one replica, which re-indexes the modality's repository and points
 * the store's serving alias at it ({@link ReportRepositories#reindex}); each replica's own group hands
 * every announcement to every replica, which then switches when the alias points at the encoder's
 * collection ({@link ReportRepositories#follow}). A bad announcement (unreadable bundle, unknown
 * modality) is logged and skipped.
 */
@ApplicationScoped
public class ModelAnnouncementConsumer {

    private final ReportRepositories reports;

    public ModelAnnouncementConsumer(ReportRepositories reports) {
        this.reports = reports;
    }

    @Incoming("models")
    @Blocking
    public void onAnnouncement(byte[] value) {
        imageEncoder(value).ifPresent(m -> {
            try {
                reports.reindex(m.getModality(), Path.of(m.getBundleUri()));
            } catch (RuntimeException e) {
                Log.errorf("announced image encoder %s@%s (%s) not re-indexed: %s", m.getName(), m.getVersion(), m.getBundleUri(),
                        e.getMessage());
            }
        });
    }

    @Incoming("models-follow")
    @Blocking
    public void onFollow(byte[] value) {
        imageEncoder(value).ifPresent(m -> {
            try {
                reports.follow(m.getModality(), Path.of(m.getBundleUri()));
            } catch (RuntimeException e) {
                // a replica replays every announcement when it starts: bundles long gone are expected here
                Log.warnf("announced image encoder %s@%s (%s) not followed: %s", m.getName(), m.getVersion(), m.getBundleUri(),
                        e.getMessage());
            }
        });
    }

    /** The announcement, if it is a well-formed image encoder announcement with a modality. */
    static Optional<ModelAnnouncement> imageEncoder(byte[] value) {
        ModelAnnouncement m;
        try {
            m = ModelAnnouncement.parseFrom(value == null ? new byte[0] : value);
        } catch (InvalidProtocolBufferException e) {
            Log.warnf("skipping a malformed model announcement of %d bytes", value == null ? 0 : value.length);
            return Optional.empty();
        }
        if (!m.getKind().equals("image_encoder")) {
            return Optional.empty(); // other services serve other kinds
        }
        if (m.getModality() == Modality.MODALITY_UNSPECIFIED || m.getModality() == Modality.UNRECOGNIZED) {
            Log.warnf("skipping announcement of %s@%s: no modality", m.getName(), m.getVersion());
            return Optional.empty();
        }
        return Optional.of(m);
    }
}

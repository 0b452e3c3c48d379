package io.heterorag.retrieval.ingest;

import java.nio.file.Path;

import jakarta.enterprise.context.ApplicationScoped;

import com.google.protobuf.InvalidProtocolBufferException;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.ModelAnnouncement;
import io.heterorag.retrieval.store.ReportRepositories;
import io.quarkus.logging.Log;
import io.smallrye.common.annotation.Blocking;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Serves the image encoders announced on heterorag.models: each announced bundle is loaded and its
 * modality's repository re-embedded with it, then swapped in (see {@link ReportRepositories#swap}).
 * A bad announcement (unreadable bundle, unknown modality) is logged and skipped.
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
        ModelAnnouncement m;
        try {
            m = ModelAnnouncement.parseFrom(value);
        } catch (InvalidProtocolBufferException e) {
            Log.warnf("skipping a malformed model announcement of %d bytes", value == null ? 0 : value.length);
            return;
        }
        if (!m.getKind().equals("image_encoder")) {
            return; // other services serve other kinds
        }
        if (m.getModality() == Modality.MODALITY_UNSPECIFIED || m.getModality() == Modality.UNRECOGNIZED) {
            Log.warnf("skipping announcement of %s@%s: no modality", m.getName(), m.getVersion());
            return;
        }
        try {
            reports.swap(m.getModality(), Path.of(m.getBundleUri()));
        } catch (RuntimeException e) {
            Log.errorf("announced image encoder %s@%s (%s) not served: %s", m.getName(), m.getVersion(), m.getBundleUri(),
                    e.getMessage());
        }
    }
}

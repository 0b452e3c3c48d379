package io.heterorag.generation.answer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.heterorag.proto.v1.ModelAnnouncement;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

/** Of a poll's announcements only the newest generator that loads is served (a pod's replay loads one bundle). */
class ModelAnnouncementConsumerTest {

    static byte[] generator(String bundle) {
        return ModelAnnouncement.newBuilder().setName(bundle).setVersion("1").setKind("generator").setBundleUri(bundle).build()
                .toByteArray();
    }

    @Test
    void theNewestLoadableGeneratorOfAPollIsServed() {
        List<Path> loaded = new ArrayList<>();
        ServedAnswerer served = new ServedAnswerer(new ExtractiveAnswerer(), (bundle, ep) -> {
            loaded.add(bundle);
            if (bundle.toString().equals("broken")) {
                throw new IllegalArgumentException("generator bundle broken is not a directory");
            }
            return new GenerativeAnswererTest.Scripted(List.of("x"), "eos") {
                @Override
                public String id() {
                    return bundle + "@1";
                }
            };
        }, "cpu", 16, new GenerationMetrics(new SimpleMeterRegistry()));
        ModelAnnouncementConsumer consumer = new ModelAnnouncementConsumer(served);

        consumer.onAnnouncements(List.of(generator("g1"), generator("g2"), new byte[] {1, 2, 3},
                ModelAnnouncement.newBuilder().setKind("image_encoder").setBundleUri("img").build().toByteArray(), generator("broken")));
        assertEquals(List.of(Path.of("broken"), Path.of("g2")), loaded, "newest first, g1 never loaded");
        assertEquals("g2@1", served.id());

        consumer.onAnnouncements(List.of(generator("broken")));
        assertEquals("g2@1", served.id(), "a bundle that does not load leaves the served one");
    }
}

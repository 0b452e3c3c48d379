package io.heterorag.model.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import io.heterorag.proto.v1.ModelAnnouncement;
import org.junit.jupiter.api.Test;

class ModelAnnouncementsTest {

    static byte[] announced(String kind, String bundle) {
        return ModelAnnouncement.newBuilder().setName(bundle).setVersion("1").setKind(kind).setBundleUri(bundle).build().toByteArray();
    }

    @Test
    void theNewestOfTheKindThatLoadsIsServedAndNothingOlderIsLoaded() {
        List<Path> tried = new ArrayList<>();
        var served = ModelAnnouncements.serveNewest(Arrays.asList(announced("mqg", "q1"), announced("mqg", "q2"), new byte[] {1, 2, 3}, null,
                announced("generator", "g9"), announced("mqg", "broken")), "mqg", bundle -> {
                    tried.add(bundle);
                    if (bundle.toString().equals("broken")) {
                        throw new IllegalArgumentException("not a directory");
                    }
                });
        assertEquals(List.of(Path.of("broken"), Path.of("q2")), tried, "newest first; other kinds and q1 never loaded");
        assertEquals("q2", served.orElseThrow().getBundleUri());
    }

    @Test
    void nothingServedWhenNoneOfTheKindLoads() {
        List<Path> tried = new ArrayList<>();
        assertTrue(ModelAnnouncements.serveNewest(List.of(announced("generator", "g1")), "mqg", tried::add).isEmpty());
        assertTrue(tried.isEmpty());
        assertTrue(ModelAnnouncements.serveNewest(List.of(announced("mqg", "bad")), "mqg", b -> {
            throw new IllegalStateException("fails to load");
        }).isEmpty());
    }
}

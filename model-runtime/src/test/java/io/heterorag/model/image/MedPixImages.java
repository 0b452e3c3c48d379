package io.heterorag.model.image;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Real MedPix 2.0 images for the tests (read from ../shared, never written). */
public final class MedPixImages {

    static final Path DIR = Path.of(System.getProperty("medpix.dir", "../../shared/data/medpix-2.0")).resolve("images");

    private MedPixImages() {
    }

    public static byte[] bytes(String name) {
        try {
            return Files.readAllBytes(DIR.resolve(name + ".jpg"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

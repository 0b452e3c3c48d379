package io.heterorag.model.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import javax.imageio.ImageIO;

import io.heterorag.proto.v1.Modality;
import org.junit.jupiter.api.Test;

/** Real CT and MR DICOM files (pydicom's test data, see src/test/resources/dicom/README.md). */
class DicomReaderTest {

    static byte[] file(String name) {
        try (InputStream in = DicomReaderTest.class.getResourceAsStream("/dicom/" + name)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void decodesCtAndMrAndMapsTheModalityTag() throws Exception {
        ImageDecoder.Decoded ct = ImageDecoder.read(file("CT_small.dcm"), "application/dicom");
        assertEquals(128, ct.image().getWidth());
        assertEquals(Modality.RADIOLOGY, ct.modality());
        ImageDecoder.Decoded mr = ImageDecoder.read(file("MR_small.dcm"), "");
        assertEquals(64, mr.image().getWidth());
        assertEquals(Modality.RADIOLOGY, mr.modality());
        for (BufferedImage img : new BufferedImage[] {ct.image(), mr.image()}) {
            int[] px = img.getRaster().getPixels(0, 0, img.getWidth(), img.getHeight(), (int[]) null);
            int lo = Arrays.stream(px).min().orElseThrow();
            int hi = Arrays.stream(px).max().orElseThrow();
            assertTrue(hi - lo > 150, "windowed into a visible range: " + lo + ".." + hi);
        }
        Path out = Path.of("target", "dicom-previews");
        Files.createDirectories(out);
        ImageIO.write(ct.image(), "png", out.resolve("CT_small.png").toFile());
        ImageIO.write(mr.image(), "png", out.resolve("MR_small.png").toFile());
    }

    @Test
    void implicitVrGivesTheSamePixelsAsExplicitVr() {
        BufferedImage explicit = ImageDecoder.decode(file("MR_small.dcm"), "");
        BufferedImage implicit = ImageDecoder.decode(file("MR_small_implicit.dcm"), "");
        int w = explicit.getWidth();
        int h = explicit.getHeight();
        assertTrue(Arrays.equals(explicit.getRaster().getPixels(0, 0, w, h, (int[]) null),
                implicit.getRaster().getPixels(0, 0, w, h, (int[]) null)));
    }

    @Test
    void compressedOrTruncatedDicomIsRefusedWithAReason() {
        for (String name : new String[] {"MR_small_RLE.dcm", "JPEG-lossy.dcm"}) {
            InvalidImageException e = assertThrows(InvalidImageException.class, () -> ImageDecoder.decode(file(name), ""));
            assertTrue(e.getMessage().contains("compressed"), name + ": " + e.getMessage());
        }
        byte[] truncated = Arrays.copyOf(file("CT_small.dcm"), 2000);
        InvalidImageException e = assertThrows(InvalidImageException.class, () -> ImageDecoder.decode(truncated, ""));
        assertTrue(e.getMessage().contains("DICOM"), e.getMessage());
        assertThrows(InvalidImageException.class, () -> ImageDecoder.decode(file("CT_small.dcm"), "image/png"));
    }

    @Test
    void windowValuesMayBeMultiValued() {
        assertEquals(40.0, DicomReader.first("40\\400", Double.NaN));
        assertEquals(7.0, DicomReader.first(" ", 7.0));
        assertEquals(7.0, DicomReader.first("abc", 7.0));
    }
}

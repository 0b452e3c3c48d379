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
    void truncatedOrMislabelledDicomIsRefusedWithAReason() {
        // compressed files: CompressedDicomTest
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

    static int sample(BufferedImage img, int x, int y) {
        return img.getRaster().getSample(x, y, 0);
    }

    /** A copy of an explicit-VR little-endian file with one short-form element's value replaced (same length). */
    static byte[] withValue(byte[] file, int group, int element, String value) {
        byte[] out = file.clone();
        for (int p = 132; p + 8 <= out.length; p++) {
            if ((out[p] & 0xff) == (group & 0xff) && (out[p + 1] & 0xff) == group >> 8 && (out[p + 2] & 0xff) == (element & 0xff)
                    && (out[p + 3] & 0xff) == element >> 8 && Character.isUpperCase(out[p + 4]) && Character.isUpperCase(out[p + 5])) {
                int length = (out[p + 6] & 0xff) | (out[p + 7] & 0xff) << 8;
                byte[] v = value.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                if (v.length != length) {
                    throw new IllegalArgumentException("value must keep the length " + length);
                }
                System.arraycopy(v, 0, out, p + 8, length);
                return out;
            }
        }
        throw new IllegalArgumentException("no element " + group + "," + element);
    }

    @Test
    void ctWithoutAWindowMapsItsValueRangeTo8Bits() {
        // CT_small: signed 16-bit, rescale slope 1 intercept −1024 (HU = stored − 1024), no VOI window, so the
        // file's range −896..1167 HU maps to 0..255: v = round(255 · (HU + 896) / 2063)
        BufferedImage ct = ImageDecoder.decode(file("CT_small.dcm"), "");
        assertEquals(6, sample(ct, 0, 0)); //      stored 175  → −849 HU → 255 · 47/2063   = 5.81   → 6
        assertEquals(222, sample(ct, 64, 64)); //  stored 1928 →  904 HU → 255 · 1800/2063 = 222.49 → 222
        assertEquals(122, sample(ct, 10, 100)); // stored 1118 →   94 HU → 255 · 990/2063  = 122.37 → 122
        assertEquals(17, sample(ct, 100, 30)); //  stored 269  → −755 HU → 255 · 141/2063  = 17.43  → 17
        int[] px = ct.getRaster().getPixels(0, 0, 128, 128, (int[]) null);
        assertEquals(0, Arrays.stream(px).min().orElseThrow());
        assertEquals(255, Arrays.stream(px).max().orElseThrow());
    }

    @Test
    void mrUsesTheFilesVoiWindow() {
        // MR_small: window centre 600, width 1600 → [c − 0.5 − (w − 1)/2, c − 0.5 + (w − 1)/2] = [−200, 1399];
        // v = round(255 · clamp((stored + 200) / 1599)). Its value range (127..2145) would give other values.
        BufferedImage mr = ImageDecoder.decode(file("MR_small.dcm"), "");
        assertEquals(176, sample(mr, 0, 0)); //  stored 905 → 255 · 1105/1599 = 176.22 (range: 98)
        assertEquals(61, sample(mr, 32, 32)); // stored 182 → 255 · 382/1599  = 60.92  (range: 7)
        assertEquals(76, sample(mr, 20, 40)); // stored 275 → 255 · 475/1599  = 75.75  (range: 19)
        assertEquals(255, sample(mr, 9, 0)); //  stored 2145, above the window → clamped
        // pixels whose rounding shows a window edge one off (−199 or −201 for −200, 1400 for 1399)
        assertEquals(81, sample(mr, 23, 0)); // stored 305  → 255 · 505/1599  = 80.53 (from −199: 80.38)
        assertEquals(89, sample(mr, 15, 0)); // stored 361  → 255 · 561/1599  = 89.47 (from −201: 89.63)
        assertEquals(228, sample(mr, 2, 0)); // stored 1227 → 255 · 1427/1599 = 227.57 (to 1400: 227.43)
    }

    @Test
    void theTransferSyntaxIsReadFromTheMetaHeaderOnly() {
        byte[] mr = file("MR_small.dcm");
        // (0002,0010)'s value ends at byte 274: a file cut there still names it, cut inside it does not
        assertEquals("1.2.840.10008.1.2.1", DicomReader.transferSyntax(Arrays.copyOf(mr, 274)));
        assertEquals(null, DicomReader.transferSyntax(Arrays.copyOf(mr, 271)));
        // an empty element before it is skipped, not taken for the end of the header
        java.nio.ByteBuffer meta = java.nio.ByteBuffer.allocate(132 + 8 + 8 + 20).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        meta.put(128, "DICM".getBytes()).position(132);
        meta.putShort((short) 2).putShort((short) 2).put("UI".getBytes()).putShort((short) 0);
        meta.putShort((short) 2).putShort((short) 0x10).put("UI".getBytes()).putShort((short) 20).put("1.2.840.10008.1.2.1\0".getBytes());
        assertEquals("1.2.840.10008.1.2.1", DicomReader.transferSyntax(meta.array()));
        // the meta group (0002) ends without one: none, and the decoder says so
        byte[] noSyntax = new byte[140];
        System.arraycopy("DICM".getBytes(), 0, noSyntax, 128, 4);
        noSyntax[132] = 0x08; // element (0008,0000)
        noSyntax[136] = 'U';
        noSyntax[137] = 'L';
        assertEquals(null, DicomReader.transferSyntax(noSyntax));
        InvalidImageException e = assertThrows(InvalidImageException.class, () -> ImageDecoder.decode(noSyntax, ""));
        assertTrue(e.getMessage().contains("without a transfer syntax"), e.getMessage());
    }

    @Test
    void aWindowNoWiderThanOneFallsBackToTheValueRange() {
        // width 1 would map everything to black or white: the value range 127..2145 is used instead
        BufferedImage mr = ImageDecoder.decode(withValue(file("MR_small.dcm"), 0x0028, 0x1051, "1   "), "");
        assertEquals(98, sample(mr, 0, 0)); // 255 · (905 − 127)/2018 = 98.31
        assertEquals(7, sample(mr, 32, 32)); // 255 · (182 − 127)/2018 = 6.95
        assertEquals(255, sample(mr, 9, 0)); // the maximum
    }

    @Test
    void monochrome1IsShownInverted() {
        byte[] mr = file("MR_small.dcm");
        BufferedImage normal = ImageDecoder.decode(mr, "");
        BufferedImage inverted = ImageDecoder.decode(withValue(mr, 0x0028, 0x0004, "MONOCHROME1 "), "");
        for (int[] p : new int[][] {{0, 0}, {32, 32}, {9, 0}, {63, 63}}) {
            assertEquals(255 - sample(normal, p[0], p[1]), sample(inverted, p[0], p[1]), Arrays.toString(p));
        }
        assertEquals(255 - 176, sample(inverted, 0, 0));
    }

    @Test
    void theModalityTagIsMappedCaseInsensitivelyAndUnknownOnesAreUnspecified() {
        byte[] mr = file("MR_small.dcm");
        assertEquals(Modality.RADIOLOGY, ImageDecoder.read(withValue(mr, 0x0008, 0x0060, "mr"), "").modality());
        assertEquals(Modality.MODALITY_UNSPECIFIED, ImageDecoder.read(withValue(mr, 0x0008, 0x0060, "ZZ"), "").modality());
        assertEquals(Modality.PATHOLOGY, DicomReader.MODALITIES.get("SM"));
        assertEquals("1.2.840.10008.1.2.1", DicomReader.transferSyntax(mr));
        assertEquals(null, DicomReader.transferSyntax(Arrays.copyOf(mr, 140)), "a meta header cut short has no transfer syntax");
    }
}

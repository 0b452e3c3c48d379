package io.heterorag.model.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import org.junit.jupiter.api.Test;

/** Every transfer syntax against pydicom's own files and pydicom's own decoding of them (PydicomFiles). */
class CompressedDicomTest {

    /** Lossy codecs: libjpeg/OpenJPEG (pydicom's Pillow) and the Java decoders may round an IDCT or wavelet step differently. */
    static int tolerance(String syntax) {
        return Set.of("1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.91").contains(syntax) ? 2 : 0;
    }

    @Test
    void everyFilePydicomDecodesGivesPydicomsValues() {
        List<String> failures = new ArrayList<>();
        int compared = 0;
        for (Map.Entry<String, JsonObject> e : PydicomFiles.golden().entrySet()) {
            JsonObject g = e.getValue();
            if (!g.has("pixels")) {
                continue;
            }
            String name = e.getKey();
            DicomDataset ds = DicomDataset.parse(PydicomFiles.bytes(name));
            DicomReader.Frame middle = DicomReader.frame(ds, 0);
            compared += compare(name, g, g.getAsJsonArray("pixels"), middle, failures);
            if (g.has("firstFramePixels")) {
                compared += compare(name + " frame 1", g, g.getAsJsonArray("firstFramePixels"), DicomReader.frame(ds, 1), failures);
            }
            assertEquals(g.get("rows").getAsInt(), middle.rows(), name);
            assertEquals(g.get("columns").getAsInt(), middle.columns(), name);
            // and the whole path to an image works
            BufferedImage img = ImageDecoder.decode(PydicomFiles.bytes(name), "application/dicom");
            assertEquals(middle.columns(), img.getWidth(), name);
        }
        assertTrue(failures.isEmpty(), failures.size() + " differences from pydicom:\n" + String.join("\n", failures));
        assertTrue(compared >= 27 * 5, "compared " + compared + " pixels");
    }

    private static int compare(String name, JsonObject g, Iterable<JsonElement> pixels, DicomReader.Frame f, List<String> failures) {
        String syntax = g.get("transferSyntax").getAsString();
        // pydicom keeps JPEG colour as YBR when the header says YBR; ImageIO converts it to RGB: compare in RGB
        boolean ybrByCodec = DicomReader.IMAGEIO.containsKey(syntax) && f.samplesPerPixel() == 3
                && g.get("photometric").getAsString().startsWith("YBR");
        int tolerance = ybrByCodec ? 3 : tolerance(syntax);
        int n = 0;
        for (JsonElement p : pixels) {
            JsonObject o = p.getAsJsonObject();
            int r = o.get("row").getAsInt();
            int c = o.get("column").getAsInt();
            double[] want = new double[f.samplesPerPixel()];
            for (int s = 0; s < want.length; s++) {
                want[s] = o.getAsJsonArray("samples").get(s).getAsDouble();
            }
            if (ybrByCodec) {
                want = rgb(want);
            }
            for (int s = 0; s < want.length; s++) {
                double got = f.value((r * f.columns() + c) * f.samplesPerPixel() + s);
                if (Math.abs(got - want[s]) > tolerance) {
                    failures.add(name + " (" + syntax + ") at " + r + "," + c + " sample " + s + ": " + got + " where pydicom has " + want[s]);
                }
                n++;
            }
        }
        return n;
    }

    /** YBR_FULL → RGB (PS3.3 C.7.6.3.1.2), as the codecs do. */
    static double[] rgb(double[] ybr) {
        double y = ybr[0];
        double cb = ybr[1] - 128;
        double cr = ybr[2] - 128;
        return new double[] {clamp(y + 1.402 * cr), clamp(y - 0.344136 * cb - 0.714136 * cr), clamp(y + 1.772 * cb)};
    }

    private static double clamp(double v) {
        return Math.max(0, Math.min(255, Math.round(v)));
    }

    @Test
    void whatPydicomCannotDecodeHereIsDecodedOrRefusedByName() {
        // JPEG Extended 12-bit (pydicom needs GDCM or pylibjpeg; no Java reader on Maven Central has the precision)
        for (String name : new String[] {"JPEG-lossy.dcm", "JPGExtended.dcm"}) {
            InvalidImageException e = assertThrows(InvalidImageException.class, () -> ImageDecoder.decode(PydicomFiles.bytes(name), ""));
            assertTrue(e.getMessage().contains("1.2.840.10008.1.2.4.51 (JPEG Extended) with 12-bit samples is not supported"), e.getMessage());
        }
        // JPEG lossless (process 14): exactly the pixels of the RLE (lossless) copy of the same picture
        DicomReader.Frame lossless = DicomReader.frame(DicomDataset.parse(PydicomFiles.bytes("SC_rgb_jpeg_gdcm.dcm")), 0);
        DicomReader.Frame rle = DicomReader.frame(DicomDataset.parse(PydicomFiles.bytes("SC_rgb_rle.dcm")), 0);
        assertTrue(Arrays.equals(rle.samples(), lossless.samples()));
        // JPEG 2000 with a JP2 header inside the pixel data (non-conformant; pydicom's Pillow gives up)
        BufferedImage gbr = ImageDecoder.decode(PydicomFiles.bytes("GDCMJ2K_TextGBR.dcm"), "");
        assertTrue(gbr.getWidth() > 0);
        // JPEG-LS: no maintained decoder on Maven Central, refused by name
        InvalidImageException ls = assertThrows(InvalidImageException.class,
                () -> ImageDecoder.decode(PydicomFiles.bytes("MR_small_jpeg_ls_lossless.dcm"), ""));
        assertTrue(ls.getMessage().contains("1.2.840.10008.1.2.4.80 (JPEG-LS Lossless) is not supported"), ls.getMessage());
    }

    @Test
    void truncatedPixelDataIsRefused() {
        InvalidImageException e = assertThrows(InvalidImageException.class, () -> ImageDecoder.decode(PydicomFiles.bytes("MR_truncated.dcm"), ""));
        assertEquals("DICOM pixel data is cut short: 8130 bytes where 1 frame(s) of 64x64x1 at 16 bits need 8192", e.getMessage());
    }

    @Test
    void theMiddleFrameIsTheDefaultAndFramesAreNumberedFromOne() {
        byte[] dose = PydicomFiles.bytes("rtdose.dcm"); // 15 frames
        DicomDataset ds = DicomDataset.parse(dose);
        assertEquals(15, DicomReader.frames(ds));
        assertTrue(Arrays.equals(DicomReader.frame(ds, 8).samples(), DicomReader.frame(ds, 0).samples()), "frame 8 of 15 is the middle");
        assertTrue(!Arrays.equals(DicomReader.frame(ds, 1).samples(), DicomReader.frame(ds, 15).samples()));
        InvalidImageException e = assertThrows(InvalidImageException.class, () -> ImageDecoder.read(dose, "", 16));
        assertTrue(e.getMessage().contains("frame 16 asked, the DICOM image has 15 frame(s)"), e.getMessage());
        // RLE with two frames: the middle of two is the second
        DicomDataset two = DicomDataset.parse(PydicomFiles.bytes("SC_rgb_rle_2frame.dcm"));
        assertTrue(Arrays.equals(DicomReader.frame(two, 2).samples(), DicomReader.frame(two, 0).samples()));
        // a PNG or JPEG has one frame
        assertThrows(InvalidImageException.class, () -> ImageDecoder.read(MedPixImages.bytes("MPX1007_synpic46719"), "", 2));
    }

    @Test
    void everyFileCutAnywhereIsRefusedWithAnInvalidImageNotAnotherException() {
        for (String name : PydicomFiles.golden().keySet()) {
            byte[] file = PydicomFiles.bytes(name);
            for (int k = 1; k < 12; k++) {
                byte[] cut = Arrays.copyOf(file, 132 + (file.length - 132) * k / 12);
                try {
                    ImageDecoder.read(cut, "", 0);
                } catch (InvalidImageException expected) {
                    assertTrue(!expected.getMessage().isBlank());
                } catch (RuntimeException other) {
                    throw new AssertionError(name + " cut to " + cut.length + " bytes: " + other, other);
                }
            }
        }
    }

    @Test
    void rleSegmentsAreDecodedByPackBits() {
        // PS3.5 G.3.1: 2 → copy 3 literal bytes; −2 → repeat the next byte 3 times; −128 → nothing
        byte[] in = {2, 1, 2, 3, -2, 9, -128};
        assertTrue(Arrays.equals(new byte[] {1, 2, 3, 9, 9, 9}, RleDecoder.packBits(in, 0, in.length, 6)));
        InvalidImageException e = assertThrows(InvalidImageException.class, () -> RleDecoder.packBits(in, 0, 4, 6));
        assertTrue(e.getMessage().contains("cut short"), e.getMessage());
    }
}

package io.heterorag.model.image;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import ij.plugin.DICOM;
import ij.process.ImageProcessor;
import ij.util.DicomTools;
import io.heterorag.proto.v1.Modality;

/**
 * Uncompressed DICOM (CT, MR, CR, DX, …) to an 8-bit grayscale image, as a radiologist would first see
 * it: stored values → modality values (rescale slope/intercept; ImageJ's signed 16-bit offset) → the
 * file's window centre/width (else the value range) → MONOCHROME1 inverted. Compressed transfer
 * syntaxes (JPEG, JPEG 2000, RLE, deflate) are refused with a clear message.
 */
final class DicomReader {

    static final Set<String> UNCOMPRESSED = Set.of("1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2");

    /** DICOM Modality (0008,0060) → the platform's modality. */
    static final Map<String, Modality> MODALITIES = Map.ofEntries(
            Map.entry("CT", Modality.RADIOLOGY), Map.entry("MR", Modality.RADIOLOGY), Map.entry("CR", Modality.RADIOLOGY),
            Map.entry("DX", Modality.RADIOLOGY), Map.entry("MG", Modality.RADIOLOGY), Map.entry("US", Modality.RADIOLOGY),
            Map.entry("XA", Modality.RADIOLOGY), Map.entry("RF", Modality.RADIOLOGY), Map.entry("PT", Modality.RADIOLOGY),
            Map.entry("NM", Modality.RADIOLOGY), Map.entry("OP", Modality.OPHTHALMOLOGY), Map.entry("OPT", Modality.OPHTHALMOLOGY),
            Map.entry("SM", Modality.PATHOLOGY));

    private DicomReader() {
    }

    static ImageDecoder.Decoded read(byte[] data) {
        String syntax = transferSyntax(data);
        if (syntax == null) {
            throw new InvalidImageException("DICOM file without a transfer syntax in its meta header");
        }
        if (!UNCOMPRESSED.contains(syntax)) {
            throw new InvalidImageException("DICOM transfer syntax " + syntax + " (compressed) is not supported; "
                    + "send uncompressed DICOM, PNG or JPEG");
        }
        DICOM dicom = new DICOM(new ByteArrayInputStream(data));
        dicom.open("request.dcm");
        if (dicom.getWidth() == 0 || dicom.getProcessor() == null) {
            throw new InvalidImageException("corrupt DICOM image: no pixel data could be read");
        }
        ImageProcessor ip = dicom.getProcessor();
        int w = ip.getWidth();
        int h = ip.getHeight();
        float[] values = new float[w * h];
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                // calibrated: ImageJ's signed offset and the rescale slope/intercept applied
                float v = ip.getPixelValue(x, y);
                values[y * w + x] = v;
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        double centre = first(DicomTools.getTag(dicom, "0028,1050"), Double.NaN);
        double width = first(DicomTools.getTag(dicom, "0028,1051"), Double.NaN);
        double lo = Double.isNaN(centre) || Double.isNaN(width) || width <= 1 ? min : centre - 0.5 - (width - 1) / 2;
        double hi = Double.isNaN(centre) || Double.isNaN(width) || width <= 1 ? max : centre - 0.5 + (width - 1) / 2;
        boolean invert = String.valueOf(DicomTools.getTag(dicom, "0028,0004")).strip().equals("MONOCHROME1");
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        var raster = out.getRaster();
        for (int i = 0; i < values.length; i++) {
            double g = hi > lo ? (values[i] - lo) / (hi - lo) : 0;
            int v = (int) Math.round(255 * Math.max(0, Math.min(1, g)));
            raster.setSample(i % w, i / w, 0, invert ? 255 - v : v);
        }
        String tag = DicomTools.getTag(dicom, "0008,0060");
        Modality m = tag == null ? Modality.MODALITY_UNSPECIFIED
                : MODALITIES.getOrDefault(tag.strip().toUpperCase(Locale.ROOT), Modality.MODALITY_UNSPECIFIED);
        return new ImageDecoder.Decoded(out, m);
    }

    /** The first value of a possibly multi-valued decimal string ("40\\400"), or the fallback. */
    static double first(String value, double fallback) {
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            return Double.parseDouble(value.strip().split("\\\\")[0].strip());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    /** Transfer syntax UID (0002,0010) from the explicit-VR little-endian file meta group, or null. */
    static String transferSyntax(byte[] d) {
        ByteBuffer b = ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN);
        int pos = 132;
        while (pos + 8 <= d.length) {
            int group = b.getShort(pos) & 0xffff;
            int element = b.getShort(pos + 2) & 0xffff;
            if (group != 0x0002) {
                return null;
            }
            String vr = new String(d, pos + 4, 2, StandardCharsets.US_ASCII);
            int length;
            int header;
            if (Set.of("OB", "OW", "OF", "SQ", "UT", "UN").contains(vr)) {
                length = b.getInt(pos + 8);
                header = 12;
            } else {
                length = b.getShort(pos + 6) & 0xffff;
                header = 8;
            }
            if (length < 0 || pos + header + length > d.length) {
                return null;
            }
            if (element == 0x0010) {
                return new String(d, pos + header, length, StandardCharsets.US_ASCII).replace("\0", "").strip();
            }
            pos += header + length;
        }
        return null;
    }
}

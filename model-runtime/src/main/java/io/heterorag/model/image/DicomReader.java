package io.heterorag.model.image;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

import io.heterorag.proto.v1.Modality;

/**
 * DICOM (CT, MR, CR, DX, …) to an image, as a radiologist would first see it. One frame is chosen
 * ({@link #read(byte[], int)}), its stored values decoded by transfer syntax (native, RLE, JPEG baseline,
 * extended and lossless, JPEG 2000, deflated; JPEG-LS and the rest are refused by name), then for grayscale:
 * stored values → modality values (rescale slope/intercept) → the file's window centre/width (else the
 * value range) → 8 bits, MONOCHROME1 inverted; colour (RGB, YBR) becomes 8-bit RGB.
 */
final class DicomReader {

    static final String RLE = "1.2.840.10008.1.2.5";
    static final Set<String> NATIVE = Set.of(DicomDataset.IMPLICIT_LE, "1.2.840.10008.1.2.1", DicomDataset.EXPLICIT_BE,
            DicomDataset.DEFLATED_LE);
    /** Decoded through an ImageIO reader: JPEG (TwelveMonkeys, which also does 12-bit and lossless) and JPEG 2000 (jai-imageio). */
    static final Map<String, String> IMAGEIO = Map.of(
            "1.2.840.10008.1.2.4.50", "jpeg", "1.2.840.10008.1.2.4.51", "jpeg", "1.2.840.10008.1.2.4.57", "jpeg",
            "1.2.840.10008.1.2.4.70", "jpeg", "1.2.840.10008.1.2.4.90", "jpeg2000", "1.2.840.10008.1.2.4.91", "jpeg2000");
    /** Names of the transfer syntaxes a caller may send, for a message that says which one was refused (PS3.6 Table A-1). */
    static final Map<String, String> NAMES = Map.ofEntries(
            Map.entry("1.2.840.10008.1.2.4.50", "JPEG Baseline"), Map.entry("1.2.840.10008.1.2.4.51", "JPEG Extended"),
            Map.entry("1.2.840.10008.1.2.4.57", "JPEG Lossless"), Map.entry("1.2.840.10008.1.2.4.70", "JPEG Lossless SV1"),
            Map.entry("1.2.840.10008.1.2.4.80", "JPEG-LS Lossless"), Map.entry("1.2.840.10008.1.2.4.81", "JPEG-LS Near-Lossless"),
            Map.entry("1.2.840.10008.1.2.4.90", "JPEG 2000 Lossless"), Map.entry("1.2.840.10008.1.2.4.91", "JPEG 2000"),
            Map.entry("1.2.840.10008.1.2.4.92", "JPEG 2000 Part 2 Lossless"), Map.entry("1.2.840.10008.1.2.4.93", "JPEG 2000 Part 2"),
            Map.entry("1.2.840.10008.1.2.4.94", "JPIP Referenced"), Map.entry("1.2.840.10008.1.2.4.100", "MPEG2"),
            Map.entry("1.2.840.10008.1.2.4.102", "MPEG-4 AVC/H.264"), Map.entry("1.2.840.10008.1.2.4.201", "HTJ2K Lossless"),
            Map.entry("1.2.840.10008.1.2.4.203", "HTJ2K"), Map.entry(RLE, "RLE Lossless"));

    /** DICOM Modality (0008,0060) → the platform's modality. */
    static final Map<String, Modality> MODALITIES = Map.ofEntries(
            Map.entry("CT", Modality.RADIOLOGY), Map.entry("MR", Modality.RADIOLOGY), Map.entry("CR", Modality.RADIOLOGY),
            Map.entry("DX", Modality.RADIOLOGY), Map.entry("MG", Modality.RADIOLOGY), Map.entry("US", Modality.RADIOLOGY),
            Map.entry("XA", Modality.RADIOLOGY), Map.entry("RF", Modality.RADIOLOGY), Map.entry("PT", Modality.RADIOLOGY),
            Map.entry("NM", Modality.RADIOLOGY), Map.entry("OP", Modality.OPHTHALMOLOGY), Map.entry("OPT", Modality.OPHTHALMOLOGY),
            Map.entry("SM", Modality.PATHOLOGY));

    private DicomReader() {
    }

    /**
     * One frame's stored values, sample-interleaved (R,G,B,R,… for colour), as pydicom's pixel_array gives them:
     * signed where pixel representation is 1; {@code rgb} when a codec already turned YBR into RGB.
     */
    record Frame(int rows, int columns, int samplesPerPixel, int[] samples, String photometric, boolean unsigned32) {
        double value(int i) {
            return unsigned32 ? Integer.toUnsignedLong(samples[i]) : samples[i];
        }
    }

    static ImageDecoder.Decoded read(byte[] data) {
        return read(data, 0);
    }

    /** @param frameNumber 1-based, as DICOM numbers frames; 0 picks the middle frame (number n/2 + 1 of n). */
    static ImageDecoder.Decoded read(byte[] data, int frameNumber) {
        DicomDataset ds = DicomDataset.parse(data);
        Frame f = frame(ds, frameNumber);
        BufferedImage image = f.samplesPerPixel() == 1 ? gray(ds, f) : colour(ds, f);
        String tag = ds.string(0x00080060);
        Modality m = tag == null ? Modality.MODALITY_UNSPECIFIED
                : MODALITIES.getOrDefault(tag.toUpperCase(Locale.ROOT), Modality.MODALITY_UNSPECIFIED);
        return new ImageDecoder.Decoded(image, m);
    }

    /** The frames a file holds (Number of Frames, default 1). */
    static int frames(DicomDataset ds) {
        return Math.max(1, ds.integerString(0x00280008, 1));
    }

    static Frame frame(DicomDataset ds, int frameNumber) {
        String syntax = ds.transferSyntax;
        if (!NATIVE.contains(syntax) && !syntax.equals(RLE) && !IMAGEIO.containsKey(syntax)) {
            throw new InvalidImageException("DICOM transfer syntax " + syntax + " (" + NAMES.getOrDefault(syntax, "unknown")
                    + ") is not supported; send uncompressed, deflated, RLE, JPEG or JPEG 2000 DICOM, or PNG or JPEG");
        }
        if (ds.nativePixels == null && !ds.encapsulated) {
            throw new InvalidImageException("DICOM file without pixel data (7FE0,0010)");
        }
        int rows = ds.unsignedShort(0x00280010, 0);
        int columns = ds.unsignedShort(0x00280011, 0);
        int spp = ds.unsignedShort(0x00280002, 1);
        int bitsAllocated = ds.unsignedShort(0x00280100, 0);
        int bitsStored = ds.unsignedShort(0x00280101, bitsAllocated);
        String photometric = String.valueOf(ds.string(0x00280004));
        if (rows == 0 || columns == 0) {
            throw new InvalidImageException("DICOM image without rows or columns");
        }
        if ((long) rows * columns > ImageDecoder.MAX_PIXELS) {
            throw new InvalidImageException("image has " + (long) rows * columns + " pixels, above the limit of " + ImageDecoder.MAX_PIXELS);
        }
        if (spp != 1 && spp != 3) {
            throw new InvalidImageException("DICOM samples per pixel " + spp + " is not supported (1 or 3)");
        }
        if (!Set.of(1, 8, 16, 32).contains(bitsAllocated) || (bitsAllocated == 1 && spp != 1) || bitsStored < 1 || bitsStored > bitsAllocated) {
            throw new InvalidImageException("DICOM bits allocated/stored " + bitsAllocated + "/" + bitsStored + " is not supported");
        }
        if (photometric.startsWith("PALETTE")) {
            throw new InvalidImageException("DICOM photometric interpretation " + photometric + " is not supported");
        }
        int frames = frames(ds);
        if (frameNumber < 0 || frameNumber > frames) {
            throw new InvalidImageException("frame " + frameNumber + " asked, the DICOM image has " + frames
                    + " frame(s), numbered from 1 (0: the middle one)");
        }
        int index = frameNumber == 0 ? frames / 2 : frameNumber - 1;
        boolean signed = ds.unsignedShort(0x00280103, 0) == 1;
        int bytes = Math.max(1, bitsAllocated / 8);
        if (!ds.encapsulated) {
            boolean planar = ds.unsignedShort(0x00280006, 0) == 1;
            return nativeFrame(ds.nativePixels, ds.order, index, frames, rows, columns, spp, bitsAllocated, signed, planar, photometric);
        }
        byte[] encoded = fragmentsOf(ds, index, frames);
        if (syntax.equals(RLE)) {
            byte[] decoded = RleDecoder.decode(encoded, rows * columns, spp, bytes);
            return nativeFrame(decoded, ByteOrder.LITTLE_ENDIAN, 0, 1, rows, columns, spp, bitsAllocated, signed, false, photometric);
        }
        if (syntax.startsWith("1.2.840.10008.1.2.4.5") && !syntax.endsWith(".57") && bitsStored > 8) {
            // 12-bit DCT JPEG: neither the JDK's reader nor TwelveMonkeys' has the precision
            throw new InvalidImageException("DICOM transfer syntax " + syntax + " (" + NAMES.get(syntax) + ") with " + bitsStored
                    + "-bit samples is not supported (8-bit only); send uncompressed, RLE, JPEG lossless or JPEG 2000 DICOM");
        }
        boolean lossless = syntax.endsWith(".4.57") || syntax.endsWith(".4.70");
        return codecFrame(encoded, IMAGEIO.get(syntax), lossless, rows, columns, spp, signed, photometric);
    }

    /** One frame's bytes of encapsulated pixel data: by the offset table, else one fragment per frame, else all of a single frame's. */
    static byte[] fragmentsOf(DicomDataset ds, int index, int frames) {
        List<byte[]> fragments = ds.fragments;
        if (fragments.isEmpty()) {
            throw new InvalidImageException("encapsulated DICOM pixel data without fragments");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (frames == 1) {
            fragments.forEach(out::writeBytes);
        } else if (ds.frameOffsets.size() == frames) {
            long from = ds.frameOffsets.get(index);
            long to = index + 1 < frames ? ds.frameOffsets.get(index + 1) : Long.MAX_VALUE;
            for (int i = 0; i < fragments.size(); i++) {
                long at = ds.fragmentOffsets.get(i);
                if (at >= from && at < to) {
                    out.writeBytes(fragments.get(i));
                }
            }
        } else if (fragments.size() == frames) {
            out.writeBytes(fragments.get(index));
        } else {
            throw new InvalidImageException("encapsulated DICOM pixel data with " + fragments.size() + " fragments for " + frames
                    + " frames and no offset table is not supported");
        }
        if (out.size() == 0) {
            throw new InvalidImageException("encapsulated DICOM pixel data: frame " + (index + 1) + " has no fragment");
        }
        return out.toByteArray();
    }

    /** Native (uncompressed) pixels: the frame's samples read in the file's byte order, planar configuration undone. */
    static Frame nativeFrame(byte[] px, ByteOrder order, int index, int frames, int rows, int columns, int spp, int bitsAllocated,
            boolean signed, boolean planar, String photometric) {
        int pixels = rows * columns;
        boolean ybr422 = photometric.equals("YBR_FULL_422") && bitsAllocated == 8;
        long frameBits = ybr422 ? 16L * pixels : (long) pixels * spp * bitsAllocated;
        long needed = (frameBits * frames + 7) / 8;
        if (px.length < needed) {
            throw new InvalidImageException("DICOM pixel data is cut short: " + px.length + " bytes where " + frames + " frame(s) of "
                    + rows + "x" + columns + "x" + spp + " at " + bitsAllocated + " bits need " + needed);
        }
        int[] s = new int[pixels * spp];
        long startBit = frameBits * index;
        if (bitsAllocated == 1) { // packed, least significant bit first (PS3.5 D.2)
            for (int i = 0; i < pixels; i++) {
                long bit = startBit + i;
                s[i] = px[(int) (bit >>> 3)] >> (bit & 7) & 1;
            }
            return new Frame(rows, columns, 1, s, photometric, false);
        }
        ByteBuffer b = ByteBuffer.wrap(px).order(order);
        int start = (int) (startBit / 8);
        if (ybr422) { // Y1 Y2 Cb Cr for each pair of pixels (PS3.3 C.7.6.3.1.2), upsampled to full YBR
            for (int p = 0; p < pixels; p += 2) {
                int at = start + p * 2;
                int cb = px[at + 2] & 0xff;
                int cr = px[at + 3] & 0xff;
                for (int k = 0; k < 2 && p + k < pixels; k++) {
                    s[(p + k) * 3] = px[at + k] & 0xff;
                    s[(p + k) * 3 + 1] = cb;
                    s[(p + k) * 3 + 2] = cr;
                }
            }
            return new Frame(rows, columns, spp, s, "YBR_FULL", false);
        }
        int bytes = bitsAllocated / 8;
        for (int i = 0; i < s.length; i++) {
            // planar configuration 1 stores all of sample 0, then all of sample 1, …
            int source = planar ? (i % spp) * pixels + i / spp : i;
            int at = start + source * bytes;
            s[i] = switch (bytes) {
                case 1 -> signed ? px[at] : px[at] & 0xff;
                case 2 -> signed ? b.getShort(at) : b.getShort(at) & 0xffff;
                default -> b.getInt(at);
            };
        }
        return new Frame(rows, columns, spp, s, photometric, bytes == 4 && !signed);
    }

    /** A JPEG or JPEG 2000 frame through its ImageIO reader; the codec turns YBR into RGB (as pydicom's does). */
    static Frame codecFrame(byte[] encoded, String format, boolean lossless, int rows, int columns, int spp, boolean signed,
            String photometric) {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(encoded))) {
            // 8-bit DCT JPEG: the JDK's reader (TwelveMonkeys refuses some Adobe-marked streams); lossless: TwelveMonkeys
            ImageReader reader = lossless ? ImageIO.getImageReadersByFormatName(format).next() : ImageDecoder.jdkReader(format);
            try {
                reader.setInput(in);
                if (reader.getWidth(0) != columns || reader.getHeight(0) != rows) {
                    throw new InvalidImageException("DICOM " + format + " frame is " + reader.getWidth(0) + "x" + reader.getHeight(0)
                            + " where the header says " + columns + "x" + rows);
                }
                // the header's colour space is the compressed data's (PS3.5 8.2.1): RGB is read as coded, with no
                // YCbCr conversion a JFIF-less stream would otherwise get; YBR is converted to RGB by the codec
                Raster r = photometric.equals("RGB") ? rawRaster(reader) : reader.read(0).getRaster();
                if (r.getNumBands() != spp) {
                    throw new InvalidImageException("DICOM " + format + " frame has " + r.getNumBands() + " samples per pixel where the header says " + spp);
                }
                int[] s = r.getPixels(0, 0, columns, rows, (int[]) null);
                int bits = r.getSampleModel().getSampleSize(0);
                if (signed && spp == 1 && bits < 32) { // the codec hands back the two's complement bits unsigned
                    int shift = 32 - bits;
                    for (int i = 0; i < s.length; i++) {
                        s[i] = s[i] << shift >> shift;
                    }
                }
                return new Frame(rows, columns, spp, s, spp == 3 ? "RGB" : photometric, false);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof InvalidImageException iie) {
                throw iie;
            }
            throw new InvalidImageException("corrupt DICOM " + format + " frame: " + e.getMessage());
        }
    }

    /** The coded samples without colour conversion; a reader that cannot give them converts as it sees fit. */
    private static Raster rawRaster(ImageReader reader) throws IOException {
        if (reader.canReadRaster()) {
            try {
                return reader.readRaster(0, null);
            } catch (IOException | RuntimeException e) {
                // TwelveMonkeys refuses a raster for some Adobe-marked streams that it reads whole fine
            }
        }
        return reader.read(0).getRaster();
    }

    /** Grayscale: modality values, the file's VOI window (else the value range), 8 bits, MONOCHROME1 inverted. */
    static BufferedImage gray(DicomDataset ds, Frame f) {
        double slope = first(ds.string(0x00281053), 1.0);
        double intercept = first(ds.string(0x00281052), 0.0);
        int w = f.columns();
        int h = f.rows();
        float[] values = new float[w * h];
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (int i = 0; i < values.length; i++) {
            float v = (float) (f.value(i) * slope + intercept);
            values[i] = v;
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        double centre = first(ds.string(0x00281050), Double.NaN);
        double width = first(ds.string(0x00281051), Double.NaN);
        boolean window = !Double.isNaN(centre) && !Double.isNaN(width) && width > 1;
        double lo = window ? centre - 0.5 - (width - 1) / 2 : min;
        double hi = window ? centre - 0.5 + (width - 1) / 2 : max;
        boolean invert = f.photometric().equals("MONOCHROME1");
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        var raster = out.getRaster();
        for (int i = 0; i < values.length; i++) {
            double g = hi > lo ? (values[i] - lo) / (hi - lo) : 0;
            int v = (int) Math.round(255 * Math.max(0, Math.min(1, g)));
            raster.setSample(i % w, i / w, 0, invert ? 255 - v : v);
        }
        return out;
    }

    /** Colour: YBR_FULL to RGB (PS3.3 C.7.6.3.1.2), samples above 8 bits scaled to 8. */
    static BufferedImage colour(DicomDataset ds, Frame f) {
        int bitsStored = ds.unsignedShort(0x00280101, ds.unsignedShort(0x00280100, 8));
        double max = bitsStored > 8 ? Math.pow(2, bitsStored) - 1 : 255;
        boolean ybr = f.photometric().startsWith("YBR_FULL");
        BufferedImage out = new BufferedImage(f.columns(), f.rows(), BufferedImage.TYPE_INT_RGB);
        int[] rgb = new int[3];
        for (int i = 0; i < f.rows() * f.columns(); i++) {
            for (int c = 0; c < 3; c++) {
                rgb[c] = (int) Math.round(255 * f.value(i * 3 + c) / max);
            }
            if (ybr) {
                double y = rgb[0];
                double cb = rgb[1] - 128.0;
                double cr = rgb[2] - 128.0;
                rgb[0] = (int) Math.round(y + 1.402 * cr);
                rgb[1] = (int) Math.round(y - 0.344136 * cb - 0.714136 * cr);
                rgb[2] = (int) Math.round(y + 1.772 * cb);
            }
            int r = Math.max(0, Math.min(255, rgb[0]));
            int g = Math.max(0, Math.min(255, rgb[1]));
            int b = Math.max(0, Math.min(255, rgb[2]));
            out.setRGB(i % f.columns(), i / f.columns(), r << 16 | g << 8 | b);
        }
        return out;
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

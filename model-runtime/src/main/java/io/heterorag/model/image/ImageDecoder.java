package io.heterorag.model.image;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

import io.heterorag.proto.v1.Modality;

/**
 * Decodes PNG, JPEG and DICOM bytes (see DicomReader for its transfer syntaxes), sniffing the format from the bytes rather than
 * trusting the media type.
 */
public final class ImageDecoder {

    /** A decoded image and, for DICOM, the modality its Modality tag names (else MODALITY_UNSPECIFIED). */
    public record Decoded(BufferedImage image, Modality modality) {
    }

    /** Larger images are refused before decoding (decompression bombs). */
    static final long MAX_PIXELS = 64L * 1024 * 1024;

    private ImageDecoder() {
    }

    public static BufferedImage decode(byte[] data, String mediaType) {
        return read(data, mediaType).image();
    }

    /** A request's image: its bytes, media type and DICOM frame (Image.frame: 1-based, 0 the middle one). */
    public static Decoded read(io.heterorag.proto.v1.Image image) {
        return read(image.getData().toByteArray(), image.getMediaType(), image.getFrame());
    }

    public static Decoded read(byte[] data, String mediaType) {
        return read(data, mediaType, 0);
    }

    /**
     * @param frame which frame of a multi-frame DICOM image: 1-based, as DICOM numbers frames; 0 (the proto
     *              default) picks the middle one. PNG and JPEG have one frame: 0 or 1.
     */
    public static Decoded read(byte[] data, String mediaType, int frame) {
        if (data == null || data.length == 0) {
            throw new InvalidImageException("image is empty");
        }
        String format = sniff(data);
        if (format == null) {
            throw new InvalidImageException("image is neither PNG, JPEG nor DICOM (" + data.length + " bytes)");
        }
        String expected = format.equals("dicom") ? "application/dicom" : "image/" + format;
        if (mediaType != null && !mediaType.isBlank() && !mediaType.equalsIgnoreCase(expected)
                && !(format.equals("jpeg") && mediaType.equalsIgnoreCase("image/jpg"))) {
            throw new InvalidImageException("media type " + mediaType + " does not match the bytes, which are " + format);
        }
        if (format.equals("dicom")) {
            try {
                return DicomReader.read(data, frame);
            } catch (InvalidImageException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new InvalidImageException("corrupt DICOM image: " + e.getMessage());
            }
        }
        if (frame > 1 || frame < 0) {
            throw new InvalidImageException("frame " + frame + " asked, a " + format + " image has one frame (1, or 0 for the middle one)");
        }
        return new Decoded(raster(data, format), Modality.MODALITY_UNSPECIFIED);
    }

    private static BufferedImage raster(byte[] data, String format) {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(data))) {
            ImageReader reader = jdkReader(format);
            try {
                reader.setInput(in);
                // ImageIO decodes a truncated JPEG into a half-grey picture with only a warning: refuse it
                List<String> warnings = new ArrayList<>();
                reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
                long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
                if (pixels > MAX_PIXELS) {
                    throw new InvalidImageException("image has " + pixels + " pixels, above the limit of " + MAX_PIXELS);
                }
                BufferedImage image = reader.read(0);
                if (!warnings.isEmpty()) {
                    throw new InvalidImageException("corrupt " + format + " image: " + warnings.get(0));
                }
                return image;
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof InvalidImageException iie) {
                throw iie;
            }
            throw new InvalidImageException("corrupt " + format + " image: " + e.getMessage());
        }
    }

    /**
     * The JDK's own reader for the format where there is one: DicomReader's JPEG plugin (TwelveMonkeys) also
     * registers for "jpeg", and plain uploads keep the reader whose warnings {@link #raster} relies on.
     */
    static ImageReader jdkReader(String format) {
        ImageReader first = null;
        for (Iterator<ImageReader> it = ImageIO.getImageReadersByFormatName(format); it.hasNext();) {
            ImageReader r = it.next();
            if (r.getClass().getName().startsWith("com.sun.imageio.")) {
                return r;
            }
            first = first == null ? r : first;
        }
        return first;
    }

    /** "png", "jpeg", "dicom" or null. */
    static String sniff(byte[] d) {
        if (d.length >= 8 && (d[0] & 0xff) == 0x89 && d[1] == 'P' && d[2] == 'N' && d[3] == 'G') {
            return "png";
        }
        if (d.length >= 3 && (d[0] & 0xff) == 0xFF && (d[1] & 0xff) == 0xD8 && (d[2] & 0xff) == 0xFF) {
            return "jpeg";
        }
        if (d.length >= 132 && d[128] == 'D' && d[129] == 'I' && d[130] == 'C' && d[131] == 'M') {
            return "dicom";
        }
        return null;
    }
}

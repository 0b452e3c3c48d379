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
 * Decodes PNG, JPEG and uncompressed DICOM bytes, sniffing the format from the bytes rather than
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

    public static Decoded read(byte[] data, String mediaType) {
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
                return DicomReader.read(data);
            } catch (InvalidImageException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new InvalidImageException("corrupt DICOM image: " + e.getMessage());
            }
        }
        return new Decoded(raster(data, format), Modality.MODALITY_UNSPECIFIED);
    }

    private static BufferedImage raster(byte[] data, String format) {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(data))) {
            Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format);
            ImageReader reader = readers.next();
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

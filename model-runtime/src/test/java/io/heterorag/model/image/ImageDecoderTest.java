package io.heterorag.model.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;

class ImageDecoderTest {

    @Test
    void decodesRealJpegAndPng() throws Exception {
        BufferedImage jpeg = ImageDecoder.decode(MedPixImages.bytes("MPX1007_synpic46719"), "image/jpeg");
        assertTrue(jpeg.getWidth() > 100);
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(jpeg, "png", png);
        BufferedImage back = ImageDecoder.decode(png.toByteArray(), "");
        assertEquals(jpeg.getWidth(), back.getWidth());
    }

    @Test
    void refusesWhatIsNotAReadableImage() {
        byte[] jpeg = MedPixImages.bytes("MPX1007_synpic46719");
        assertMessage("empty", () -> ImageDecoder.decode(new byte[0], ""));
        assertMessage("neither PNG", () -> ImageDecoder.decode("hello".getBytes(), ""));
        assertMessage("corrupt jpeg", () -> ImageDecoder.decode(Arrays.copyOf(jpeg, 300), "image/jpeg"));
        assertMessage("does not match", () -> ImageDecoder.decode(jpeg, "image/png"));
        byte[] dicom = new byte[200];
        System.arraycopy("DICM".getBytes(), 0, dicom, 128, 4);
        assertMessage("DICOM", () -> ImageDecoder.decode(dicom, "application/dicom"));
    }

    private static void assertMessage(String part, Runnable r) {
        InvalidImageException e = assertThrows(InvalidImageException.class, r::run);
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }

    /** A valid black 1-bit grayscale PNG of any size: a few kilobytes even at tens of millions of pixels. */
    static byte[] blackPng(int width, int height) throws java.io.IOException {
        ByteArrayOutputStream idat = new ByteArrayOutputStream();
        try (var z = new java.util.zip.DeflaterOutputStream(idat)) {
            byte[] row = new byte[1 + (width + 7) / 8]; // filter byte 0, then the packed pixels
            for (int y = 0; y < height; y++) {
                z.write(row);
            }
        }
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        png.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10});
        java.nio.ByteBuffer ihdr = java.nio.ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 1).put((byte) 0);
        chunk(png, "IHDR", ihdr.array());
        chunk(png, "IDAT", idat.toByteArray());
        chunk(png, "IEND", new byte[0]);
        return png.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream png, String type, byte[] data) throws java.io.IOException {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(type.getBytes());
        crc.update(data);
        png.write(java.nio.ByteBuffer.allocate(4).putInt(data.length).array());
        png.write(type.getBytes());
        png.write(data);
        png.write(java.nio.ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    @Test
    void theDecompressionBombGuardRefusesOnlyImagesAboveItsPixelLimit() throws Exception {
        // 8192 × 8192 = 64 Mi pixels, exactly the limit: decoded
        BufferedImage atLimit = ImageDecoder.decode(blackPng(8192, 8192), "image/png");
        assertEquals(8192, atLimit.getWidth());
        assertEquals(8192, atLimit.getHeight());
        // one column more (8193 × 8192 = 67117056): refused from the header, before decoding
        byte[] wider = blackPng(8193, 8192);
        byte[] taller = blackPng(8192, 8193);
        assertMessage("67117056 pixels, above the limit of 67108864", () -> ImageDecoder.decode(wider, ""));
        assertMessage("67117056 pixels", () -> ImageDecoder.decode(taller, ""));
    }

    @Test
    void theFormatIsSniffedFromTheShortestSignatures() {
        // the signature alone is recognised (and then refused as corrupt, not as unknown)
        assertMessage("corrupt jpeg", () -> ImageDecoder.decode(new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF}, ""));
        assertMessage("corrupt png", () -> ImageDecoder.decode(new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10}, ""));
        byte[] dicm = new byte[132];
        System.arraycopy("DICM".getBytes(), 0, dicm, 128, 4);
        assertMessage("without a transfer syntax", () -> ImageDecoder.decode(dicm, ""));
        // one byte short of each: not an image
        assertMessage("neither PNG", () -> ImageDecoder.decode(new byte[] {(byte) 0xFF, (byte) 0xD8}, ""));
        assertMessage("neither PNG", () -> ImageDecoder.decode(new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26}, ""));
        assertMessage("neither PNG", () -> ImageDecoder.decode(Arrays.copyOf(dicm, 131), ""));
        assertMessage("image is empty", () -> ImageDecoder.decode(null, ""));
    }

    @Test
    void theMediaTypeMayBeMissingOrSpelledDifferently() {
        byte[] jpeg = MedPixImages.bytes("MPX1007_synpic46719");
        int width = ImageDecoder.decode(jpeg, "").getWidth();
        assertEquals(width, ImageDecoder.decode(jpeg, null).getWidth());
        assertEquals(width, ImageDecoder.decode(jpeg, "IMAGE/JPEG").getWidth());
        assertEquals(width, ImageDecoder.decode(jpeg, "image/jpg").getWidth());
        assertEquals(io.heterorag.proto.v1.Modality.MODALITY_UNSPECIFIED, ImageDecoder.read(jpeg, "image/jpeg").modality());
        assertMessage("does not match", () -> ImageDecoder.decode(jpeg, "application/dicom"));
    }
}

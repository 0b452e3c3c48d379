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
}

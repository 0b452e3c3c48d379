package io.heterorag.model.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;

/** On real MedPix images: near-identical copies hash close, different images far apart. */
class PerceptualHashTest {

    static final Path IMAGES = Path.of(System.getProperty("medpix.dir", "../../shared/data/medpix-2.0")).resolve("images");

    static BufferedImage read(String name) throws IOException {
        return ImageIO.read(IMAGES.resolve(name + ".jpg").toFile());
    }

    @Test
    void aRescaledRecompressedCopyIsNearAndOtherImagesAreFar() throws IOException {
        BufferedImage a = read("MPX1007_synpic46719");
        BufferedImage half = new BufferedImage(a.getWidth() / 2, a.getHeight() / 2, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = half.createGraphics();
        g.drawImage(a, 0, 0, half.getWidth(), half.getHeight(), null);
        g.dispose();
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(half, "png", png);
        BufferedImage copy = ImageDecoder.decode(png.toByteArray(), "image/png");

        long h = PerceptualHash.of(a);
        assertEquals(0, PerceptualHash.distance(h, PerceptualHash.of(a)));
        assertTrue(PerceptualHash.distance(h, PerceptualHash.of(copy)) <= 4, "rescaled copy: " + PerceptualHash.distance(h, PerceptualHash.of(copy)));
        for (String other : List.of("MPX1009_synpic46283", "MPX1012_synpic22949", "MPX1014_synpic41745")) {
            int d = PerceptualHash.distance(h, PerceptualHash.of(read(other)));
            assertTrue(d > 12, other + " is " + d + " bits away");
        }
    }

    @Test
    void imagesOfOneMedPixCaseAreMostlyDistinct() throws IOException {
        List<Path> files;
        try (var s = Files.list(IMAGES)) {
            files = s.sorted().limit(200).toList();
        }
        long[] hashes = new long[files.size()];
        for (int i = 0; i < hashes.length; i++) {
            hashes[i] = PerceptualHash.of(ImageIO.read(files.get(i).toFile()));
        }
        int near = 0;
        for (int i = 0; i < hashes.length; i++) {
            for (int j = i + 1; j < hashes.length; j++) {
                if (PerceptualHash.distance(hashes[i], hashes[j]) <= 4) {
                    near++;
                }
            }
        }
        // a handful of MedPix images are genuine near-repeats (same series); most pairs are not
        assertTrue(near < hashes.length / 10, near + " near pairs among " + hashes.length);
    }

    @Test
    void hashesAreStableGoldenValues() throws IOException {
        // stored hashes are compared with new ones: any change to the algorithm (bit order, median, DCT,
        // complemented bits) silently stops every stored hash from matching
        assertEquals(0x9c34b8dc71f8ce20L, PerceptualHash.of(read("MPX1007_synpic46719")));
        assertEquals(0xf166e3361c0c9ce8L, PerceptualHash.of(read("MPX1009_synpic46283")));
        assertEquals(0x743d8985077eeca0L, PerceptualHash.of(read("MPX1012_synpic22949")));
        BufferedImage synthetic = new BufferedImage(64, 64, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                synthetic.getRaster().setSample(x, y, 0, (x * 4) ^ (y * 2));
            }
        }
        assertEquals(0x5fb0a4185bf225d8L, PerceptualHash.of(synthetic));
        // bit 0 is the DC term's place: never set
        assertEquals(0, PerceptualHash.of(synthetic) & 1);
        assertEquals(64, PerceptualHash.distance(0L, -1L));
        assertEquals(1, PerceptualHash.distance(0b1010L, 0b1000L));
    }
}

package io.heterorag.model.image;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.Arrays;

/**
 * 64-bit DCT perceptual hash (pHash): the image in grey at 32×32, its 8×8 lowest DCT frequencies
 * without the DC term, one bit per coefficient above their median. Re-encoding, rescaling and small
 * brightness changes move a few bits; a different image moves about half of them.
 */
public final class PerceptualHash {

    private static final int N = 32;
    private static final double[][] COS = new double[8][N];

    static {
        for (int u = 0; u < 8; u++) {
            for (int x = 0; x < N; x++) {
                COS[u][x] = Math.cos((2 * x + 1) * u * Math.PI / (2 * N));
            }
        }
    }

    private PerceptualHash() {
    }

    public static long of(BufferedImage image) {
        BufferedImage small = new BufferedImage(N, N, BufferedImage.TYPE_BYTE_GRAY);
        Graphics2D g = small.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(image, 0, 0, N, N, null);
        g.dispose();
        double[][] px = new double[N][N];
        for (int y = 0; y < N; y++) {
            for (int x = 0; x < N; x++) {
                px[y][x] = small.getRaster().getSample(x, y, 0);
            }
        }
        double[] coef = new double[64];
        for (int u = 0; u < 8; u++) {
            for (int v = 0; v < 8; v++) {
                double s = 0;
                for (int y = 0; y < N; y++) {
                    for (int x = 0; x < N; x++) {
                        s += px[y][x] * COS[u][y] * COS[v][x];
                    }
                }
                coef[u * 8 + v] = s;
            }
        }
        double[] ac = Arrays.copyOfRange(coef, 1, 64);
        Arrays.sort(ac);
        double median = ac[ac.length / 2];
        long hash = 0;
        for (int i = 1; i < 64; i++) {
            if (coef[i] > median) {
                hash |= 1L << i;
            }
        }
        return hash;
    }

    public static int distance(long a, long b) {
        return Long.bitCount(a ^ b);
    }
}

package io.heterorag.model.image;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * DICOM RLE Lossless (transfer syntax 1.2.840.10008.1.2.5), PS3.5 Annex G: one frame is a 64-byte header
 * (the number of segments, then up to 15 segment offsets, little endian) and PackBits-coded segments. Each
 * segment holds one byte plane: for every sample of the pixel, its most significant byte first.
 */
final class RleDecoder {

    private RleDecoder() {
    }

    /**
     * Decodes one frame into native little-endian, sample-interleaved bytes (what uncompressed DICOM with
     * planar configuration 0 would hold), so the native path reads it.
     */
    static byte[] decode(byte[] frame, int pixels, int samplesPerPixel, int bytesPerSample) {
        if (frame.length < 64) {
            throw new InvalidImageException("corrupt RLE frame: " + frame.length + " bytes, shorter than its 64-byte header");
        }
        ByteBuffer header = ByteBuffer.wrap(frame, 0, 64).order(ByteOrder.LITTLE_ENDIAN);
        int segments = header.getInt(0);
        int expected = samplesPerPixel * bytesPerSample;
        if (segments != expected) {
            throw new InvalidImageException("corrupt RLE frame: " + segments + " segments where the image needs " + expected);
        }
        byte[] out = new byte[pixels * expected];
        for (int s = 0; s < segments; s++) {
            int start = header.getInt(4 + 4 * s);
            int end = s + 1 < segments ? header.getInt(8 + 4 * s) : frame.length;
            if (start < 64 || end > frame.length || start > end) {
                throw new InvalidImageException("corrupt RLE frame: segment " + (s + 1) + " lies outside the frame");
            }
            int sample = s / bytesPerSample;
            int byteInSample = bytesPerSample - 1 - s % bytesPerSample; // segments run from the most significant byte
            byte[] plane = packBits(frame, start, end, pixels);
            for (int p = 0; p < pixels; p++) {
                out[(p * samplesPerPixel + sample) * bytesPerSample + byteInSample] = plane[p];
            }
        }
        return out;
    }

    /** PackBits (PS3.5 G.3.1): n in 0..127 copies the next n+1 bytes, −127..−1 repeats the next byte 1−n times, −128 is a no-op. */
    static byte[] packBits(byte[] in, int start, int end, int size) {
        byte[] out = new byte[size];
        int o = 0;
        int i = start;
        while (i < end && o < size) {
            int n = in[i++];
            if (n >= 0) {
                int count = Math.min(n + 1, Math.min(end - i, size - o));
                System.arraycopy(in, i, out, o, count);
                i += n + 1;
                o += count;
            } else if (n != -128 && i < end) {
                int count = Math.min(1 - n, size - o);
                java.util.Arrays.fill(out, o, o + count, in[i++]);
                o += count;
            }
        }
        if (o < size) {
            throw new InvalidImageException("corrupt RLE segment: " + o + " of " + size + " bytes decoded (cut short?)");
        }
        return out;
    }
}

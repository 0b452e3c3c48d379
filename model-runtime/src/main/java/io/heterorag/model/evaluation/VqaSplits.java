package io.heterorag.model.evaluation;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The held-out part of a VQA set whose test split is not given (VQA-RAD, PathVQA): 15 % of the
 * set's images, chosen by a fixed hash of the set and image names, so every question on an image
 * lands on one side, the choice never depends on file order, and training and evaluation agree
 * without sharing a list.
 */
public final class VqaSplits {

    /** Held out per 10,000 images. */
    static final int HELD_OUT_PER_10000 = 1500;

    private VqaSplits() {
    }

    /** Whether the image is held out: SHA-256 of "heldout-v1:SET:IMAGE", first 8 bytes unsigned, mod 10000 < 1500. */
    public static boolean heldOut(String set, String image) {
        byte[] d = sha256("heldout-v1:" + set + ":" + image);
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (d[i] & 0xff);
        }
        return Long.remainderUnsigned(v, 10_000) < HELD_OUT_PER_10000;
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }
}

package io.heterorag.model.text;

/** Small vector helpers shared by the encoders and the store. */
public final class Vectors {

    private Vectors() {
    }

    /** Scales v to unit length in place (a zero vector stays zero) and returns it. */
    public static float[] normalize(float[] v) {
        double norm = 0;
        for (float x : v) {
            norm += x * x;
        }
        norm = Math.sqrt(norm);
        if (norm > 0) {
            for (int i = 0; i < v.length; i++) {
                v[i] /= (float) norm;
            }
        }
        return v;
    }
}

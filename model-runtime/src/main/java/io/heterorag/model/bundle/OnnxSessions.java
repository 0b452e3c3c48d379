package io.heterorag.model.bundle;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

/** Closing ONNX Runtime sessions, the same way for every model kind. */
public final class OnnxSessions {

    private OnnxSessions() {
    }

    /** Closes every session given (nulls are skipped); a native failure is unchecked. */
    public static void close(OrtSession... sessions) {
        try {
            for (OrtSession s : sessions) {
                if (s != null) {
                    s.close();
                }
            }
        } catch (OrtException e) {
            throw new IllegalStateException("closing an ONNX Runtime session failed: " + e.getMessage(), e);
        }
    }
}

package io.heterorag.model.bundle;

import java.util.EnumSet;
import java.util.Locale;
import java.util.logging.Logger;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;

/**
 * Session options for the configured execution provider. "cuda" needs the GPU build of ONNX Runtime
 * (com.microsoft.onnxruntime:onnxruntime_gpu) and a device, and fails loudly without them; "auto"
 * takes CUDA when it is there and CPU otherwise; "cpu" is CPU.
 */
public final class ExecutionProviders {

    private static final Logger LOG = Logger.getLogger(ExecutionProviders.class.getName());

    private ExecutionProviders() {
    }

    /** Options plus the provider they run on ("cuda" or "cpu"). The caller closes the options. */
    public record Choice(OrtSession.SessionOptions options, String provider) {
    }

    public static Choice choose(String configured, int intraOpThreads) {
        String wanted = configured == null ? "auto" : configured.strip().toLowerCase(Locale.ROOT);
        if (!wanted.equals("auto") && !wanted.equals("cpu") && !wanted.equals("cuda")) {
            throw new IllegalArgumentException("execution provider must be auto, cpu or cuda, not " + configured);
        }
        EnumSet<OrtProvider> available = OrtEnvironment.getAvailableProviders();
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        try {
            if (intraOpThreads > 0) {
                options.setIntraOpNumThreads(intraOpThreads);
            }
            if (wanted.equals("cuda") && !available.contains(OrtProvider.CUDA)) {
                throw new IllegalStateException("execution provider cuda was asked for, but this ONNX Runtime build offers only "
                        + available + ": deploy with onnxruntime_gpu on a GPU node, or set it to auto/cpu");
            }
            if (!wanted.equals("cpu") && available.contains(OrtProvider.CUDA)) {
                try {
                    options.addCUDA(0);
                    return new Choice(options, "cuda");
                } catch (OrtException e) {
                    if (wanted.equals("cuda")) {
                        throw new IllegalStateException("CUDA execution provider failed to start: " + e.getMessage(), e);
                    }
                    LOG.warning("CUDA execution provider unavailable (" + e.getMessage() + "); using CPU");
                }
            }
            return new Choice(options, "cpu");
        } catch (OrtException e) {
            options.close();
            throw new IllegalStateException(e);
        } catch (RuntimeException e) {
            options.close();
            throw e;
        }
    }
}

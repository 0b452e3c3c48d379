package io.heterorag.tuning.preference;

import java.util.List;

/** The kinds of preference pairs (docs/preference-tuning.md): the method's three HKPT kinds and feedback corrections. */
public final class PairKinds {

    /** Correct with the real image and with the least similar image: the answer should depend on the image. */
    public static final String CROSS_MODALITY = "cross_modality";
    /** Correct with all evidence, wrong without a part: the model should use that part. */
    public static final String KNOWLEDGE_USE = "knowledge_use";
    /** Correct without a part, wrong with it: the model should not be misled by that part. */
    public static final String KNOWLEDGE_ROBUSTNESS = "knowledge_robustness";
    /** A clinician's corrected answer on a stored trace. */
    public static final String CORRECTION = "correction";

    public static final List<String> ALL = List.of(CROSS_MODALITY, KNOWLEDGE_USE, KNOWLEDGE_ROBUSTNESS, CORRECTION);

    private PairKinds() {
    }
}

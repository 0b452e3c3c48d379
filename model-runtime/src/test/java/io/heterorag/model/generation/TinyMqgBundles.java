package io.heterorag.model.generation;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.heterorag.model.bundle.ModelBundles;
import io.heterorag.proto.v1.ModelBundleManifest;

/**
 * Tiny query-generator bundles for tests: {@link TinyVlmBundles}' architecture and medical
 * vocabulary plus the tagged grammar's tags and '&lt;', '&gt;' (the VQA fixture's vocabulary has no
 * angle brackets, so it cannot write the grammar), with seeded random weights — not trained, so
 * whatever they write only parses because of the constraint.
 */
public final class TinyMqgBundles {

    public static final String TAGS_TEXT = "<research></research><wiki></wiki><book></book><guideline></guideline><graph>a,b</graph>";

    private TinyMqgBundles() {
    }

    public static String tokenizerJson(List<String> extraSpecials) {
        List<String> texts = new ArrayList<>(TinyVlmBundles.TEXTS);
        texts.add(TAGS_TEXT);
        return WordPieceVocabulary.tokenizerJson(texts, 1000, extraSpecials);
    }

    public static VlmConfig llavaConfig() {
        return VlmConfig.llava(WordPieceVocabulary.vocabularySize(tokenizerJson(List.of())), 32, 2, 2, 128, 32, 16, 16);
    }

    public static VlmConfig qwen2vlConfig() {
        return VlmConfig.qwen2vl(WordPieceVocabulary.vocabularySize(tokenizerJson(WordPieceVocabulary.QWEN_SPECIALS)), 32, 2, 2, 128, 56, 16);
    }

    /** The llava-family bundle with weights of {@code seed} ("tiny-mqg" version "seed-N"), written once per directory. */
    public static synchronized Path llava(Path dir, long seed) {
        return write(dir, llavaConfig(), tokenizerJson(List.of()), seed);
    }

    public static synchronized Path qwen2vl(Path dir, long seed) {
        return write(dir, qwen2vlConfig(), tokenizerJson(WordPieceVocabulary.QWEN_SPECIALS), seed);
    }

    private static Path write(Path dir, VlmConfig cfg, String tokenizer, long seed) {
        if (ModelBundles.exists(dir)) {
            return dir;
        }
        Map<String, float[]> w = VlmOnnxExport.randomWeights(cfg, seed);
        VlmOnnxExport.write(dir, cfg, w, tokenizer);
        ModelBundles.write(dir, ModelBundleManifest.newBuilder().setName("tiny-mqg").setVersion("seed-" + seed).setKind("generator")
                .putTraining("weights", "seeded random (TinyMqgBundles, seed " + seed + "), not trained").build());
        return dir;
    }
}

package io.heterorag.model.generation;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.heterorag.model.bundle.ModelBundles;
import io.heterorag.proto.v1.ModelBundleManifest;

/**
 * Tiny generator bundles for tests: the platform's VLM architecture with seeded random weights,
 * exported by {@link VlmOnnxExport} over a small medical vocabulary. Not trained: the answers are
 * arbitrary but deterministic. The special tokens' lm_head columns are zeroed (EOS: scaled down),
 * so greedy decoding emits ordinary words for many steps instead of stopping at once.
 */
public final class TinyVlmBundles {

    /** Seed of the weights (fixed: tests may rely on the same bundle every time). */
    public static final long SEED = 20261129L;
    /** The EOS column of lm_head is multiplied by this. */
    public static final float EOS_SCALE = 0.3f;

    /** ~200 medical words plus digits and punctuation: the fixture's whole vocabulary source. */
    public static final List<String> TEXTS = List.of(
            "yes no normal abnormal there is are the a an of in on at with without and or not",
            "left right bilateral upper lower middle lobe lung lungs chest heart liver kidney kidneys brain spleen",
            "pneumothorax pneumonia effusion pleural consolidation atelectasis cardiomegaly edema nodule mass tumor",
            "fracture hemorrhage infarct stroke lesion cyst abscess calcification opacity opacities infiltrate",
            "x ray ct mri ultrasound scan image axial coronal sagittal contrast enhanced view frontal lateral",
            "what where which how many organ organs abnormality abnormalities modality plane shown seen present",
            "small large mild moderate severe acute chronic focal diffuse enlarged dilated thickened",
            "bowel colon stomach pancreas gallbladder bladder uterus prostate aorta vessel vessels artery vein",
            "bone bones spine rib ribs skull pelvis femur shoulder knee joint muscle tissue soft fat fluid air",
            "findings impression diagnosis patient history no evidence of acute cardiopulmonary process",
            "mediastinum mediastinal shift trachea diaphragm hilar lymph node nodes adenopathy",
            "hypodense hyperdense hypointense hyperintense density signal intensity wall margin border",
            "cell cells tissue gland glands epithelium stroma necrosis inflammation fibrosis carcinoma benign malignant",
            "stained staining section biopsy microscopic slide nuclei cytoplasm",
            "1 2 3 4 5 6 7 8 9 0 . , ? ! : ; ( ) - / %");

    private TinyVlmBundles() {
    }

    public static String tokenizerJson(List<String> extraSpecials) {
        return WordPieceVocabulary.tokenizerJson(TEXTS, 1000, extraSpecials);
    }

    /** The llava-family config of the fixture: hidden 32, 2 layers, 2 heads, context 128, 32 px images (4 image tokens). */
    public static VlmConfig llavaConfig() {
        return VlmConfig.llava(WordPieceVocabulary.vocabularySize(tokenizerJson(List.of())), 32, 2, 2, 128, 32, 16, 16);
    }

    /** Writes the tiny llava-family bundle (with bundle.json: generator "tiny-vlm" version "test") once per directory. */
    public static synchronized Path llava(Path dir) {
        VlmConfig cfg = llavaConfig();
        return write(dir, cfg, tokenizerJson(List.of()), "tiny-vlm");
    }

    /**
     * The qwen2_vl-family config of the fixture: as {@link #llavaConfig()} but 56 px images (16 patches
     * of 14 px, 4 image tokens after the 2×2 merge), vision start/end tokens 5 and 6.
     */
    public static VlmConfig qwen2vlConfig() {
        return VlmConfig.qwen2vl(WordPieceVocabulary.vocabularySize(tokenizerJson(WordPieceVocabulary.QWEN_SPECIALS)), 32, 2, 2, 128, 56, 16);
    }

    /** Writes the tiny qwen2_vl-family bundle (generator "tiny-qwen2-vl" version "test") once per directory. */
    public static synchronized Path qwen2vl(Path dir) {
        return write(dir, qwen2vlConfig(), tokenizerJson(WordPieceVocabulary.QWEN_SPECIALS), "tiny-qwen2-vl");
    }

    static Path write(Path dir, VlmConfig cfg, String tokenizer, String name) {
        if (ModelBundles.exists(dir)) {
            return dir;
        }
        VlmOnnxExport.write(dir, cfg, weights(cfg), tokenizer);
        // bundle.json last: its presence means the bundle is complete
        ModelBundles.write(dir, ModelBundleManifest.newBuilder().setName(name).setVersion("test").setKind("generator")
                .putTraining("weights", "seeded random (TinyVlmBundles, seed " + SEED + "), not trained").build());
        return dir;
    }

    /** The fixture's weights: seeded random, special tokens' logits silenced (EOS damped). */
    public static Map<String, float[]> weights(VlmConfig cfg) {
        Map<String, float[]> w = VlmOnnxExport.randomWeights(cfg, SEED);
        float[] head = w.get("lm_head.weight");
        List<Integer> specials = new ArrayList<>(List.of(cfg.padTokenId(), WordPieceVocabulary.UNK_ID, cfg.bosTokenId(), cfg.imageTokenId()));
        if (!cfg.isLlava()) {
            specials.addAll(List.of(cfg.visionStartTokenId(), cfg.visionEndTokenId()));
        }
        int v = cfg.vocabSize();
        for (int row = 0; row < cfg.hidden(); row++) {
            for (int id : specials) {
                head[row * v + id] = 0;
            }
            head[row * v + cfg.eosTokenId()] *= EOS_SCALE;
        }
        return w;
    }
}

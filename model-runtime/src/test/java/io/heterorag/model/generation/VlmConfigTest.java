package io.heterorag.model.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The VLM shape's derived values and each check at its boundary. */
class VlmConfigTest {

    static VlmConfig llava(int vocab, int hidden, int heads, int imageSize, int channels) {
        return VlmConfig.llava(vocab, hidden, 2, heads, 320, imageSize, channels, 64);
    }

    @Test
    void derivedValues() {
        VlmConfig l = VlmConfig.llavaDefaults(1000);
        assertEquals(new VlmConfig("llava", 1000, 128, 2, 4, 320, 64, 128, WordPieceVocabulary.PAD_ID, WordPieceVocabulary.BOS_ID,
                WordPieceVocabulary.EOS_ID, WordPieceVocabulary.IMAGE_ID, -1, -1, 64), l);
        assertEquals(32, l.headDim());
        assertEquals(16, l.imageTokens(), "(64 / 16)²");
        assertTrue(l.isLlava());
        VlmConfig q = VlmConfig.qwen2vl(1000, 96, 2, 3, 256, 84, 32);
        assertEquals(9, q.imageTokens(), "(84 / 28)²");
        assertEquals(32, q.headDim());
        assertFalse(q.isLlava());
        assertEquals(5, q.visionStartTokenId());
        assertEquals(6, q.visionEndTokenId());
        assertEquals(1176, VlmConfig.QWEN_PATCH_VALUES);
    }

    @Test
    void eachCheckAtItsBoundary() {
        assertThrows(IllegalArgumentException.class, () -> new VlmConfig("gpt", 1000, 128, 2, 4, 320, 64, 128, 0, 1, 2, 3, -1, -1, 64));
        for (int[] bad : new int[][] {{0, 1, 1, 1, 1, 1}, {1000, 0, 1, 1, 1, 1}, {1000, 4, 0, 1, 1, 1}, {1000, 4, 1, 0, 1, 1},
                {1000, 4, 1, 1, 0, 1}, {1000, 4, 1, 1, 1, 0}}) {
            assertThrows(IllegalArgumentException.class, () -> new VlmConfig("llava", bad[0], bad[1], bad[2], bad[3], bad[4], 16, 8,
                    0, 0, 0, 0, -1, -1, bad[5]));
        }
        new VlmConfig("llava", 1, 1, 1, 1, 1, 16, 1, 0, 0, 0, 0, -1, -1, 1); // every minimum is valid
        assertThrows(IllegalArgumentException.class, () -> llava(1000, 130, 4, 64, 8), "130 is not a multiple of 4 heads");
        assertThrows(IllegalArgumentException.class, () -> llava(1000, 128, 4, 0, 8));
        assertThrows(IllegalArgumentException.class, () -> llava(1000, 128, 4, 8, 8), "below 16");
        assertThrows(IllegalArgumentException.class, () -> llava(1000, 128, 4, 24, 8), "not a multiple of 16");
        assertEquals(1, llava(1000, 128, 4, 16, 8).imageTokens());
        assertThrows(IllegalArgumentException.class, () -> llava(1000, 128, 4, 16, 0), "llava needs vision channels");
        assertEquals(0, VlmConfig.qwen2vl(1000, 128, 2, 4, 64, 28, 8).visionChannels(), "qwen2_vl does not");
        assertThrows(IllegalArgumentException.class, () -> VlmConfig.qwen2vl(1000, 128, 2, 4, 64, 14, 8), "below 28");
        assertThrows(IllegalArgumentException.class, () -> VlmConfig.qwen2vl(1000, 128, 2, 4, 64, 42, 8), "not a multiple of 28");
        // special ids inside the vocabulary: the largest id is vocab - 1
        new VlmConfig("llava", 10, 4, 1, 1, 8, 16, 1, 9, 9, 9, 9, -1, -1, 1);
        for (int i = 0; i < 4; i++) {
            int[] ids = {0, 1, 2, 3};
            ids[i] = 10;
            assertThrows(IllegalArgumentException.class, () -> new VlmConfig("llava", 10, 4, 1, 1, 8, 16, 1, ids[0], ids[1], ids[2], ids[3],
                    -1, -1, 1));
            ids[i] = -1;
            assertThrows(IllegalArgumentException.class, () -> new VlmConfig("llava", 10, 4, 1, 1, 8, 16, 1, ids[0], ids[1], ids[2], ids[3],
                    -1, -1, 1));
        }
        new VlmConfig("qwen2_vl", 10, 4, 1, 1, 8, 28, 0, 0, 1, 2, 3, 0, 9, 1);
        for (int[] v : new int[][] {{-1, 6}, {10, 6}, {5, -1}, {5, 10}}) {
            assertThrows(IllegalArgumentException.class, () -> new VlmConfig("qwen2_vl", 10, 4, 1, 1, 8, 28, 0, 0, 1, 2, 3, v[0], v[1], 1));
        }
    }
}

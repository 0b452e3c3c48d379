package io.heterorag.model.generation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import org.junit.jupiter.api.Test;

class WordPieceVocabularyTest {

    static final List<String> TEXTS = List.of(
            "There is a small right pleural effusion.",
            "No pneumothorax. The heart size is normal.",
            "The lungs are clear, there is no effusion or pneumothorax.",
            "Mild cardiomegaly, no focal consolidation.",
            "Is there a pneumothorax? No.");

    static HuggingFaceTokenizer tokenizer(String json) throws Exception {
        return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)),
                Map.of("addSpecialTokens", "false"));
    }

    @Test
    void roundTripsMedicalSentencesInLowerCase() throws Exception {
        try (HuggingFaceTokenizer t = tokenizer(WordPieceVocabulary.tokenizerJson(TEXTS, 200))) {
            for (String s : TEXTS) {
                Encoding e = t.encode(s);
                assertEquals(s.toLowerCase(), t.decode(e.getIds()), "ids " + Arrays.toString(e.getIds()));
                assertFalse(Arrays.stream(e.getIds()).anyMatch(id -> id == WordPieceVocabulary.UNK_ID), s);
            }
            // frequent words are whole tokens
            assertEquals(1, t.encode("pneumothorax").getIds().length);
            assertEquals(1, t.encode("Effusion").getIds().length);
        }
    }

    @Test
    void anUnseenWordOfSeenCharactersSplitsIntoPiecesNotUnknown() throws Exception {
        try (HuggingFaceTokenizer t = tokenizer(WordPieceVocabulary.tokenizerJson(TEXTS, 200))) {
            Encoding e = t.encode("hemothorax");
            assertTrue(e.getIds().length > 1, Arrays.toString(e.getTokens()));
            assertFalse(Arrays.stream(e.getIds()).anyMatch(id -> id == WordPieceVocabulary.UNK_ID), Arrays.toString(e.getTokens()));
            assertTrue(Arrays.stream(e.getTokens()).skip(1).allMatch(tok -> tok.startsWith("##")), Arrays.toString(e.getTokens()));
            assertEquals("hemothorax", t.decode(e.getIds()));
            // a character never seen is unknown
            assertArrayEquals(new long[] {WordPieceVocabulary.UNK_ID}, t.encode("qqq").getIds());
        }
    }

    @Test
    void specialTokensHaveTheContractsIds() throws Exception {
        String json = WordPieceVocabulary.tokenizerJson(TEXTS, 200, WordPieceVocabulary.QWEN_SPECIALS);
        try (HuggingFaceTokenizer t = tokenizer(json)) {
            assertArrayEquals(new long[] {0, 1, 2, 3, 4, 5, 6},
                    t.encode("[PAD] [UNK] <s> </s> <image> <|vision_start|> <|vision_end|>").getIds());
            assertArrayEquals(new long[] {2, 4, 4}, Arrays.copyOf(t.encode("<s><image><image> no").getIds(), 3));
            assertEquals("no", t.decode(t.encode("<s><image> no </s>").getIds(), true));
        }
    }

    @Test
    void theBudgetKeepsAllCharactersThenTheMostFrequentWords() {
        Map<String, Integer> all = WordPieceVocabulary.vocabulary(TEXTS, 1000, WordPieceVocabulary.SPECIALS);
        assertEquals(all, WordPieceVocabulary.vocabulary(TEXTS, 1000, WordPieceVocabulary.SPECIALS), "deterministic");
        int charsOnly = 5 + 2 * (int) all.keySet().stream().filter(k -> k.startsWith("##")).count();
        // "is" and "no" are seen 4 times, "pneumothorax" and "there" 3 times (ties alphabetical): room for 3 words
        Map<String, Integer> small = WordPieceVocabulary.vocabulary(TEXTS, charsOnly + 3, WordPieceVocabulary.SPECIALS);
        assertEquals(charsOnly + 3, small.size());
        assertTrue(small.containsKey("x") && small.containsKey("##x") && small.containsKey("?") && small.containsKey("##?"));
        assertEquals(List.of("is", "no", "pneumothorax"), small.keySet().stream().skip(charsOnly).toList());
        assertTrue(all.containsKey("there") && all.containsKey("mild"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WordPieceVocabulary.vocabulary(TEXTS, charsOnly - 1, WordPieceVocabulary.SPECIALS));
        assertTrue(e.getMessage().contains("distinct characters"), e.getMessage());
    }

    @Test
    void wordsFollowTheBertPreTokenizer() {
        assertEquals(List.of("mild", "cardiomegaly", ",", "no", "x", "-", "ray", "oedeme", "."),
                WordPieceVocabulary.words("Mild  cardiomegaly,\tno X-ray OEDÈME."));
    }
}

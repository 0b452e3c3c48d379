package io.heterorag.model.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

/**
 * The vocabulary builder's rules written out (no tokenizer library): BERT's punctuation at the edges
 * of its ASCII ranges and in each Unicode category, dropped and space characters, ids in order, the
 * budget's boundary and the size of a tokenizer.json.
 */
class WordPieceRulesTest {

    @Test
    void punctuationIsSplitOffAtTheEdgesOfEachAsciiRangeAndInEveryUnicodeCategory() {
        // ASCII punctuation: 33-47, 58-64, 91-96, 123-126; '0', '9', 'A', 'Z', 'a', 'z' just outside are word characters
        assertEquals(List.of("a", "!", "b", "\"", "c", "/", "0d9", ":", "e", "@", "az", "[", "f", "`", "g", "{", "h", "~", "i"),
                WordPieceVocabulary.words("a!b\"c/0d9:e@AZ[f`g{h~i"));
        // connector, dash, start, end, initial quote, final quote, other; a symbol (©) is no punctuation
        assertEquals(List.of("x", "‿", "y", "—", "z", "「", "w", "」", "v", "«", "u", "»", "t", "¿", "s©r"),
                WordPieceVocabulary.words("x‿y—z「w」v«u»t¿s©r"));
    }

    @Test
    void controlCharactersAndReplacementCharactersAreDroppedAndAnySpaceSplits() {
        // U+0000, U+0001, U+FFFD and U+0085 (a control character that is no white space) vanish
        assertEquals(List.of("tuvw", "x", "y", "zq"), WordPieceVocabulary.words("t\u0000u\u0001v\uFFFDw\u00A0x\u2003y z\u0085q"));
        assertEquals(List.of("a", "b"), WordPieceVocabulary.words("  a\t\n b  "));
        assertEquals(List.of(), WordPieceVocabulary.words(" \u0000 "));
        assertEquals(List.of("."), WordPieceVocabulary.words("."));
    }

    @Test
    void idsAreSpecialsThenCharactersThenTheirPiecesThenWordsByFrequency() {
        // ab twice; b and ba once (b is already a character: no second entry)
        List<String> texts = List.of("ba ab b", "AB");
        assertEquals(Map.of("[PAD]", 0, "[UNK]", 1, "<s>", 2, "</s>", 3, "<image>", 4, "a", 5, "b", 6, "##a", 7, "##b", 8, "ab", 9)
                .entrySet(), WordPieceVocabulary.vocabulary(texts, 10, WordPieceVocabulary.SPECIALS).entrySet());
        assertEquals(List.of("[PAD]", "[UNK]", "<s>", "</s>", "<image>", "a", "b", "##a", "##b", "ab", "ba"),
                new ArrayList<>(WordPieceVocabulary.vocabulary(texts, 100, WordPieceVocabulary.SPECIALS).keySet()));
        assertEquals(9, WordPieceVocabulary.vocabulary(texts, 9, WordPieceVocabulary.SPECIALS).size(), "room for the characters only");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WordPieceVocabulary.vocabulary(texts, 8, WordPieceVocabulary.SPECIALS));
        assertEquals("the texts have 2 distinct characters: with their ## forms and 5 specials they need 9 entries, more than the maximum 8",
                e.getMessage());
        List<String> qwen = new ArrayList<>(WordPieceVocabulary.SPECIALS);
        qwen.addAll(WordPieceVocabulary.QWEN_SPECIALS);
        assertEquals(List.of("[PAD]", "[UNK]", "<s>", "</s>", "<image>", "<|vision_start|>", "<|vision_end|>", "a", "b", "##a", "##b", "ab"),
                new ArrayList<>(WordPieceVocabulary.vocabulary(texts, 12, qwen).keySet()));
    }

    @Test
    void theTokenizerJsonListsTheSpecialsAndTheVocabulary() {
        JsonObject json = JsonParser.parseString(WordPieceVocabulary.tokenizerJson(List.of("ab"), 100, WordPieceVocabulary.QWEN_SPECIALS))
                .getAsJsonObject();
        var added = json.getAsJsonArray("added_tokens");
        assertEquals(7, added.size());
        assertEquals(6, added.get(6).getAsJsonObject().get("id").getAsInt());
        assertEquals("<|vision_end|>", added.get(6).getAsJsonObject().get("content").getAsString());
        assertTrue(added.get(0).getAsJsonObject().get("special").getAsBoolean());
        JsonObject vocab = json.getAsJsonObject("model").getAsJsonObject("vocab");
        assertEquals(12, vocab.size(), "7 specials, a, b, ##a, ##b, ab");
        assertEquals(11, vocab.get("ab").getAsInt());
        assertEquals("##", json.getAsJsonObject("decoder").get("prefix").getAsString());
        assertEquals(12, WordPieceVocabulary.vocabularySize(json.toString()));
    }

    @Test
    void theVocabularySizeSpansTheLargestIdOfTheModelAndTheAddedTokens() {
        assertEquals(8, WordPieceVocabulary.vocabularySize("{\"model\":{\"vocab\":{\"a\":3,\"b\":1}},\"added_tokens\":[{\"id\":7},{\"id\":2}]}"));
        assertEquals(5, WordPieceVocabulary.vocabularySize("{\"model\":{\"vocab\":{\"a\":4}},\"added_tokens\":[{\"id\":2}]}"));
        assertEquals(3, WordPieceVocabulary.vocabularySize("{\"added_tokens\":[{\"id\":2}]}"));
        assertEquals(2, WordPieceVocabulary.vocabularySize("{\"model\":\"x\",\"added_tokens\":[{\"id\":1}]}"));
        assertEquals(0, WordPieceVocabulary.vocabularySize("{\"model\":{\"vocab\":[1,2]}}"));
        assertEquals(5, WordPieceVocabulary.vocabularySize("{\"model\":{\"vocab\":{\"a\":4}},\"added_tokens\":{\"id\":9}}"));
        assertEquals(0, WordPieceVocabulary.vocabularySize("{}"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WordPieceVocabulary.vocabularySize("[1]"));
        assertTrue(e.getMessage().startsWith("tokenizer.json is not a JSON object: "), e.getMessage());
    }
}

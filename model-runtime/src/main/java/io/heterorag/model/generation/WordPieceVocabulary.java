package io.heterorag.model.generation;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * Builds a Hugging Face {@code tokenizer.json} (WordPiece, BERT normaliser in lower case, BERT
 * pre-tokenizer) for the platform's VLM from its training texts. Every character seen, and its
 * {@code ##} form, is in the vocabulary, so a word made of seen characters never becomes [UNK];
 * the rest of the budget goes to the most frequent whole words. Deterministic for given texts.
 */
public final class WordPieceVocabulary {

    public static final int PAD_ID = 0;
    public static final int UNK_ID = 1;
    public static final int BOS_ID = 2;
    public static final int EOS_ID = 3;
    public static final int IMAGE_ID = 4;
    /** The specials every vocabulary starts with, at ids 0..4. */
    public static final List<String> SPECIALS = List.of("[PAD]", "[UNK]", "<s>", "</s>", "<image>");
    /** Extra specials of the Qwen2-VL-family fixture, at ids 5 and 6. */
    public static final List<String> QWEN_SPECIALS = List.of("<|vision_start|>", "<|vision_end|>");

    private static final String PREFIX = "##";

    private WordPieceVocabulary() {
    }

    /** The tokenizer.json of the texts' vocabulary, at most {@code maxSize} entries (specials included). */
    public static String tokenizerJson(Iterable<String> texts, int maxSize) {
        return tokenizerJson(texts, maxSize, List.of());
    }

    /** As {@link #tokenizerJson(Iterable, int)}, with extra special tokens after the five standard ones (ids 5, 6, ...). */
    public static String tokenizerJson(Iterable<String> texts, int maxSize, List<String> extraSpecials) {
        List<String> specials = new ArrayList<>(SPECIALS);
        specials.addAll(extraSpecials);
        Map<String, Integer> vocab = vocabulary(texts, maxSize, specials);
        return toJson(vocab, specials);
    }

    /** Entries a tokenizer.json's ids span: its largest id (model vocabulary or added token) + 1. */
    public static int vocabularySize(String tokenizerJson) {
        JsonObject tok;
        try {
            tok = JsonParser.parseString(tokenizerJson).getAsJsonObject();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("tokenizer.json is not a JSON object: " + e.getMessage(), e);
        }
        int maxId = -1;
        JsonObject model = tok.has("model") && tok.get("model").isJsonObject() ? tok.getAsJsonObject("model") : null;
        if (model != null && model.has("vocab") && model.get("vocab").isJsonObject()) {
            for (var e : model.getAsJsonObject("vocab").entrySet()) {
                maxId = Math.max(maxId, e.getValue().getAsInt());
            }
        }
        if (tok.has("added_tokens") && tok.get("added_tokens").isJsonArray()) {
            for (var t : tok.getAsJsonArray("added_tokens")) {
                maxId = Math.max(maxId, t.getAsJsonObject().get("id").getAsInt());
            }
        }
        return maxId + 1;
    }

    /** The vocabulary in id order: specials, characters and their ## forms, then frequent words. */
    static Map<String, Integer> vocabulary(Iterable<String> texts, int maxSize, List<String> specials) {
        TreeSet<String> chars = new TreeSet<>();
        Map<String, Integer> counts = new HashMap<>();
        for (String text : texts) {
            for (String word : words(text)) {
                word.codePoints().forEach(cp -> chars.add(new String(Character.toChars(cp))));
                counts.merge(word, 1, Integer::sum);
            }
        }
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (String s : specials) {
            vocab.putIfAbsent(s, vocab.size());
        }
        for (String c : chars) {
            vocab.putIfAbsent(c, vocab.size());
        }
        for (String c : chars) {
            vocab.putIfAbsent(PREFIX + c, vocab.size());
        }
        if (vocab.size() > maxSize) {
            throw new IllegalArgumentException("the texts have " + chars.size() + " distinct characters: with their ## forms and "
                    + specials.size() + " specials they need " + vocab.size() + " entries, more than the maximum " + maxSize);
        }
        List<Map.Entry<String, Integer>> frequent = new ArrayList<>(counts.entrySet());
        frequent.sort(Map.Entry.<String, Integer>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()));
        for (Map.Entry<String, Integer> e : frequent) {
            if (vocab.size() >= maxSize) {
                break;
            }
            vocab.putIfAbsent(e.getKey(), vocab.size());
        }
        return vocab;
    }

    /**
     * The words the tokenizer's BERT normaliser and pre-tokenizer make of a text: lower case, accents
     * stripped, control characters dropped, split on white space and around punctuation.
     */
    static List<String> words(String text) {
        String lower = Normalizer.normalize(text.toLowerCase(java.util.Locale.ROOT), Normalizer.Form.NFD);
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        lower.codePoints().forEach(cp -> {
            int type = Character.getType(cp);
            if (type == Character.NON_SPACING_MARK || cp == 0 || cp == 0xFFFD
                    || (Character.isISOControl(cp) && !Character.isWhitespace(cp))) {
                return;
            }
            if (Character.isWhitespace(cp) || Character.isSpaceChar(cp)) {
                flush(word, words);
            } else if (isPunctuation(cp)) {
                flush(word, words);
                words.add(new String(Character.toChars(cp)));
            } else {
                word.appendCodePoint(cp);
            }
        });
        flush(word, words);
        return words;
    }

    private static void flush(StringBuilder word, List<String> words) {
        if (word.length() > 0) {
            words.add(word.toString());
            word.setLength(0);
        }
    }

    /** BERT's punctuation: ASCII symbols and every Unicode punctuation category. */
    private static boolean isPunctuation(int cp) {
        if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
            return true;
        }
        return switch (Character.getType(cp)) {
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                    Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION,
                    Character.OTHER_PUNCTUATION -> true;
            default -> false;
        };
    }

    private static String toJson(Map<String, Integer> vocab, List<String> specials) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("version", "1.0");
        json.put("truncation", null);
        json.put("padding", null);
        List<Map<String, Object>> added = new ArrayList<>();
        for (String s : specials) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("id", vocab.get(s));
            t.put("content", s);
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", true);
            added.add(t);
        }
        json.put("added_tokens", added);
        Map<String, Object> normalizer = new LinkedHashMap<>();
        normalizer.put("type", "BertNormalizer");
        normalizer.put("clean_text", true);
        normalizer.put("handle_chinese_chars", false);
        normalizer.put("strip_accents", true);
        normalizer.put("lowercase", true);
        json.put("normalizer", normalizer);
        json.put("pre_tokenizer", Map.of("type", "BertPreTokenizer"));
        // the runtime adds <s> itself (docs/generator.md), so no post-processor
        json.put("post_processor", null);
        Map<String, Object> decoder = new LinkedHashMap<>();
        decoder.put("type", "WordPiece");
        decoder.put("prefix", PREFIX);
        decoder.put("cleanup", true);
        json.put("decoder", decoder);
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "WordPiece");
        model.put("unk_token", "[UNK]");
        model.put("continuing_subword_prefix", PREFIX);
        model.put("max_input_chars_per_word", 100);
        model.put("vocab", vocab);
        json.put("model", model);
        return new GsonBuilder().serializeNulls().disableHtmlEscaping().create().toJson(json);
    }
}

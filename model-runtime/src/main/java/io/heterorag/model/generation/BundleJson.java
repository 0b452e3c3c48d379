package io.heterorag.model.generation;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/** Reading the Hugging Face JSON files of a generator bundle, with errors that name the file and key. */
final class BundleJson {

    private BundleJson() {
    }

    static JsonObject read(Path dir, String file) {
        Path p = dir.resolve(file);
        try {
            JsonElement e = JsonParser.parseString(Files.readString(p));
            if (!e.isJsonObject()) {
                throw new IllegalArgumentException("generator bundle " + dir + ": " + file + " is not a JSON object");
            }
            return e.getAsJsonObject();
        } catch (com.google.gson.JsonParseException e) {
            throw new IllegalArgumentException("generator bundle " + dir + ": " + file + " is not valid JSON: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("generator bundle " + dir + ": cannot read " + file, e);
        }
    }

    static boolean has(JsonObject o, String key) {
        return o != null && o.has(key) && !o.get(key).isJsonNull();
    }

    static int integer(JsonObject o, String key, String file) {
        if (!has(o, key)) {
            throw new IllegalArgumentException(file + " has no " + key);
        }
        return o.get(key).getAsInt();
    }

    static int integer(JsonObject o, String key, int fallback) {
        return has(o, key) ? o.get(key).getAsInt() : fallback;
    }

    static double number(JsonObject o, String key, double fallback) {
        return has(o, key) ? o.get(key).getAsDouble() : fallback;
    }

    static boolean bool(JsonObject o, String key, boolean fallback) {
        return has(o, key) ? o.get(key).getAsBoolean() : fallback;
    }

    static float[] floats(JsonObject o, String key, float[] fallback) {
        if (!has(o, key)) {
            return fallback;
        }
        var a = o.getAsJsonArray(key);
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsFloat();
        }
        return out;
    }

    /** An int or a list of ints (eos_token_id may be either). */
    static int[] ints(JsonObject o, String key) {
        if (!has(o, key)) {
            return new int[0];
        }
        JsonElement e = o.get(key);
        if (e.isJsonArray()) {
            var a = e.getAsJsonArray();
            int[] out = new int[a.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = a.get(i).getAsInt();
            }
            return out;
        }
        return new int[] {e.getAsInt()};
    }
}

package io.heterorag.model.image;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * pydicom's own test files, copied into src/test/resources/dicom/ with pydicom-golden.json (pydicom's decoded
 * values) by src/test/python/dicom_golden.py. A missing file fails the test with how to make it again.
 */
final class PydicomFiles {

    static final String HINT = "; make them with: apt-get install python3-pydicom python3-numpy && "
            + "/usr/bin/python3 model-runtime/src/test/python/dicom_golden.py";

    private PydicomFiles() {
    }

    static byte[] bytes(String name) {
        try (InputStream in = PydicomFiles.class.getResourceAsStream("/dicom/" + name)) {
            if (in == null) {
                throw new AssertionError("test file dicom/" + name + " is missing" + HINT);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** File name → its golden entry (transferSyntax, frames, photometric, rows, columns, pixels or pydicomError). */
    static Map<String, JsonObject> golden() {
        JsonObject root = JsonParser.parseString(new String(bytes("pydicom-golden.json"), StandardCharsets.UTF_8)).getAsJsonObject();
        Map<String, JsonObject> files = new TreeMap<>();
        root.getAsJsonObject("files").entrySet().forEach(e -> files.put(e.getKey(), e.getValue().getAsJsonObject()));
        return files;
    }
}

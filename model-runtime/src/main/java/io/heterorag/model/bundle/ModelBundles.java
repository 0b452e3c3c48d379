package io.heterorag.model.bundle;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.heterorag.proto.v1.ModelBundleManifest;

/** The one owner of bundle.json: reading, writing and checking a bundle's kind. */
public final class ModelBundles {

    public static final String MANIFEST = "bundle.json";

    private ModelBundles() {
    }

    public static boolean exists(Path bundleDir) {
        return Files.isRegularFile(bundleDir.resolve(MANIFEST));
    }

    public static ModelBundleManifest read(Path bundleDir) {
        Path file = bundleDir.resolve(MANIFEST);
        try {
            ModelBundleManifest.Builder b = ModelBundleManifest.newBuilder();
            JsonFormat.parser().merge(Files.readString(file), b);
            return b.build();
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("bundle manifest " + file + " is malformed: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("bundle manifest " + file + " cannot be read", e);
        }
    }

    /** Reads the manifest and refuses a bundle of another kind. */
    public static ModelBundleManifest read(Path bundleDir, String kind) {
        ModelBundleManifest m = read(bundleDir);
        if (!kind.equals(m.getKind())) {
            throw new IllegalArgumentException("bundle " + bundleDir + " is a " + m.getKind() + ", not " + (kind.matches("[aeiou].*") ? "an " : "a ") + kind);
        }
        return m;
    }

    /** Writes bundle.json (creating the directory). */
    public static void write(Path bundleDir, ModelBundleManifest manifest) {
        try {
            Files.createDirectories(bundleDir);
            Files.writeString(bundleDir.resolve(MANIFEST), JsonFormat.printer().print(manifest));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + bundleDir.resolve(MANIFEST), e);
        }
    }
}

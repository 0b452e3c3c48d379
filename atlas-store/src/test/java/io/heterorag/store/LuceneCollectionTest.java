package io.heterorag.store;

import java.nio.file.Path;

import org.junit.jupiter.api.io.TempDir;

/** The collection contract against the embedded backend (a Lucene index on disk). */
class LuceneCollectionTest extends VectorCollectionContract {

    @TempDir
    Path dir;

    @Override
    VectorCollection open(String name) {
        return new LuceneCollection(name, dir.resolve(name));
    }
}

package io.heterorag.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.store.FSDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The collection contract against the embedded backend (a Lucene index on disk), and what only it does. */
class LuceneCollectionTest extends VectorCollectionContract {

    @TempDir
    Path dir;

    @Override
    VectorCollection open(String name) {
        return new LuceneCollection(name, dir.resolve(name));
    }

    @Override
    CollectionAliases aliases() {
        return new LuceneAliases(dir);
    }

    static String unknownWords(int n) {
        return IntStream.range(0, n).mapToObj(i -> "q" + i).collect(Collectors.joining(" "));
    }

    @Test
    void aLongKeywordQueryKeepsTheTermsThatFitIn256Clauses() {
        try (VectorCollection c = open("long-query")) {
            c.upsert(List.of(entry("target", "target", "h", "zebra", 1, 0), entry("other", "other", "h", "horse", 0, 1)));
            // each term is two clauses (text and title): 127 unknown words + zebra = 128 terms = 256 clauses, all kept
            assertEquals(List.of("target"), ids(c.keyword(unknownWords(127) + " zebra", 5)));
            // one word more and zebra would be clauses 257 and 258: dropped, so nothing matches
            assertEquals(List.of(), c.keyword(unknownWords(128) + " zebra", 5));
            // far past Lucene's limit of 1024 clauses: capped, not an error
            assertEquals(List.of("target"), ids(c.keyword("zebra " + unknownWords(600), 5)));
        }
    }

    @Test
    void optimizeMergesTheIndexIntoOneSegment() throws IOException {
        Path d = dir.resolve("merged");
        try (VectorCollection c = new LuceneCollection("merged", d)) {
            for (int i = 0; i < 3; i++) {
                c.upsert(List.of(entry("e" + i, "e" + i, "h", "text " + i, 1, 0)));
            }
            assertEquals(3, segments(d), "one segment per commit");
            c.optimize();
            assertEquals(1, segments(d));
            assertEquals(3, c.count());
            assertEquals(3, c.keyword("text", 5).size());
        }
    }

    @Test
    void aSecondWriterOnTheSameIndexIsRefused() {
        // why the embedded store serves one replica (docs/storage.md, "Many replicas"): Lucene's write lock
        try (VectorCollection c = new LuceneCollection("locked", dir.resolve("locked"))) {
            java.io.UncheckedIOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.UncheckedIOException.class,
                    () -> new LuceneCollection("locked", dir.resolve("locked")));
            org.junit.jupiter.api.Assertions.assertInstanceOf(org.apache.lucene.store.LockObtainFailedException.class, e.getCause());
            c.upsert(List.of(entry("a", "a", "h", "text", 1, 0)));
            assertEquals(1, c.count(), "the first writer is unaffected");
        }
    }

    static int segments(Path d) throws IOException {
        try (FSDirectory directory = FSDirectory.open(d); DirectoryReader r = DirectoryReader.open(directory)) {
            return r.leaves().size();
        }
    }
}

package io.heterorag.cli;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.google.protobuf.util.JsonFormat;
import io.heterorag.proto.v1.ListPreferencePairsRequest;
import io.heterorag.proto.v1.ListPreferencePairsResponse;
import io.heterorag.proto.v1.PreferencePair;
import io.heterorag.proto.v1.TuningGrpc;

/**
 * The JSONL export of the stored preference pairs: every page of ListPreferencePairs (of one kind,
 * or all), one PreferencePair a line in protobuf's JSON form (lowerCamelCase fields, e.g.
 * {@code chosenSide.imagePath}).
 */
final class PairsExport {

    static final int PAGE = 500;

    private PairsExport() {
    }

    /** Writes the pairs to the file; returns how many. */
    static long write(TuningGrpc.TuningBlockingStub tuning, String kind, Path file) {
        JsonFormat.Printer json = JsonFormat.printer().omittingInsignificantWhitespace();
        long n = 0;
        try (BufferedWriter w = Files.newBufferedWriter(file)) {
            String token = "";
            do {
                ListPreferencePairsResponse page = tuning.listPreferencePairs(ListPreferencePairsRequest.newBuilder().setKind(kind)
                        .setPageSize(PAGE).setPageToken(token).build());
                for (PreferencePair p : page.getPairsList()) {
                    w.write(json.print(p));
                    w.newLine();
                    n++;
                }
                token = page.getNextPageToken();
            } while (!token.isEmpty());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
        return n;
    }
}

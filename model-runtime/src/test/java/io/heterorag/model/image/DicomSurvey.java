package io.heterorag.model.image;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Not a test: reads every .dcm file of a directory (pydicom's test_files) and prints, per file, whether
 * it decodes and else the refusal; the figure in docs/limits-and-faults.md. Run as
 * {@code java -cp ... io.heterorag.model.image.DicomSurvey /usr/lib/python3/dist-packages/pydicom/data/test_files}.
 */
public final class DicomSurvey {

    private DicomSurvey() {
    }

    public static void main(String[] args) throws Exception {
        List<Path> files;
        try (var s = Files.list(Path.of(args[0]))) {
            files = s.filter(p -> p.toString().endsWith(".dcm")).sorted().toList();
        }
        int decoded = 0;
        for (Path p : files) {
            try {
                var d = ImageDecoder.read(Files.readAllBytes(p), "", 0);
                decoded++;
                System.out.println("decoded  " + p.getFileName() + " " + d.image().getWidth() + "x" + d.image().getHeight());
            } catch (InvalidImageException e) {
                System.out.println("refused  " + p.getFileName() + ": " + e.getMessage());
            }
        }
        System.out.println(decoded + " of " + files.size() + " decoded");
    }
}

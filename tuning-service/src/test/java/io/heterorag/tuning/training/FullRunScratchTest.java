package io.heterorag.tuning.training;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class FullRunScratchTest {
    static Path pairs(Path dir, String split) throws Exception {
        Path medpix = ModClipJobTest.MEDPIX;
        ObjectMapper json = new ObjectMapper();
        Map<String, String> findings = new HashMap<>();
        for (String l : Files.readAllLines(medpix.resolve("data_" + split + ".jsonl"))) {
            var n = json.readTree(l);
            findings.put(n.path("U_id").asText(), n.path("Case").path("Findings").asText(""));
        }
        List<String> lines = new ArrayList<>();
        for (String l : Files.readAllLines(medpix.resolve("descriptions_" + split + ".jsonl"))) {
            var d = json.readTree(l);
            String image = d.path("image").asText();
            lines.add(json.writeValueAsString(Map.of("id", image, "image_path", medpix.resolve("images/" + image + ".jpg").toString(),
                    "report", (d.path("Description").path("Caption").asText("") + "\n" + findings.getOrDefault(d.path("U_id").asText(), "")).strip())));
        }
        Path f = dir.resolve(split + ".jsonl");
        Files.write(f, lines);
        return f;
    }

    @Test
    void full() throws Exception {
        Path dir = Files.createTempDirectory("full");
        Path train = pairs(dir, "train"), dev = pairs(dir, "dev");
        int epochs = Integer.getInteger("ep", 15), size = Integer.getInteger("size", 128), dim = Integer.getInteger("dim", 128), batch = Integer.getInteger("batch", 64);
        float lr = Float.parseFloat(System.getProperty("lr", "1e-3"));
        long t0 = System.nanoTime();
        var out = ModClipJob.run(train, dev, new ModClipTrainer.Config(epochs, batch, lr, size, dim, 7), dir.resolve("b"), "modclip-radiology", "x", Map.of(), System.out::println);
        System.out.println("RESULT ep=" + epochs + " size=" + size + " dim=" + dim + " batch=" + batch + " lr=" + lr + " " + out.metrics() + " secs=" + (System.nanoTime() - t0) / 1e9);
    }
}

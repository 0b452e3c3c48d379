package io.heterorag.localkafka;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/** A real KRaft broker for a module's @QuarkusTests; registered once per module so Quarkus starts once. */
public class KafkaBrokerTestResource implements QuarkusTestResourceLifecycleManager {

    private LocalKafkaBroker broker;

    @Override
    public Map<String, String> start() {
        try {
            Path dir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "kafka");
            broker = LocalKafkaBroker.start(dir, 0, 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Map.of("kafka.bootstrap.servers", broker.bootstrapServers());
    }

    @Override
    public void stop() {
        if (broker != null) {
            broker.close();
        }
    }
}

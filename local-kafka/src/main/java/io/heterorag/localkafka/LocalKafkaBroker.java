package io.heterorag.localkafka;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Time;

/**
 * Kafka's own KRaft broker, one node as broker and controller on 127.0.0.1. Used by the embedded
 * stack (as its own process, via {@link #main}) and by tests (in-JVM). Its log directory survives a
 * restart, so topics and offsets do too.
 */
public final class LocalKafkaBroker implements AutoCloseable {

    private static final String CLUSTER_ID = "heterorag-local-kafka0";

    private final KafkaRaftServer server;
    private final int port;

    private LocalKafkaBroker(KafkaRaftServer server, int port) {
        this.server = server;
        this.port = port;
    }

    /**
     * A second listener, SASL_SSL with the PLAIN mechanism, for clients configured as in production:
     * {@code keyStorePem} holds the broker's private key (PKCS#8, unencrypted) and certificate chain;
     * {@code user} / {@code password} is the one account.
     */
    public record SaslSsl(int port, Path keyStorePem, String user, String password) {
    }

    /** Starts a broker whose data lives in {@code dataDir}; port 0 picks free ports. */
    public static LocalKafkaBroker start(Path dataDir, int port, int controllerPort) {
        return start(dataDir, port, controllerPort, null);
    }

    /** As {@link #start(Path, int, int)}, with a SASL_SSL listener beside the plain one when {@code sasl} is given. */
    public static LocalKafkaBroker start(Path dataDir, int port, int controllerPort, SaslSsl sasl) {
        return start(dataDir, port, controllerPort, sasl, null);
    }

    /**
     * As {@link #start(Path, int, int, SaslSsl)}; with an {@code advertisedHost}, the plain listener binds
     * every interface and clients are told to reach it at that host (a broker in a container, reached
     * from other containers by name). The controller stays on 127.0.0.1.
     */
    public static LocalKafkaBroker start(Path dataDir, int port, int controllerPort, SaslSsl sasl, String advertisedHost) {
        try {
            Files.createDirectories(dataDir);
            int brokerPort = port > 0 ? port : freePort();
            int ctlPort = controllerPort > 0 ? controllerPort : freePort();
            Path logs = dataDir.resolve("logs").toAbsolutePath();
            Properties props = new Properties();
            props.put("process.roles", "broker,controller");
            props.put("node.id", "1");
            props.put("controller.quorum.voters", "1@127.0.0.1:" + ctlPort);
            String secure = sasl == null ? "" : ",SASL_SSL://127.0.0.1:" + sasl.port();
            String bind = advertisedHost == null ? "127.0.0.1" : "0.0.0.0";
            String advertised = advertisedHost == null ? "127.0.0.1" : advertisedHost;
            props.put("listeners", "PLAINTEXT://" + bind + ":" + brokerPort + ",CONTROLLER://127.0.0.1:" + ctlPort + secure);
            props.put("advertised.listeners", "PLAINTEXT://" + advertised + ":" + brokerPort + secure);
            props.put("controller.listener.names", "CONTROLLER");
            props.put("inter.broker.listener.name", "PLAINTEXT");
            props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT" + (sasl == null ? "" : ",SASL_SSL:SASL_SSL"));
            if (sasl != null) {
                props.put("sasl.enabled.mechanisms", "PLAIN");
                props.put("listener.name.sasl_ssl.plain.sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required "
                        + "username=\"" + sasl.user() + "\" password=\"" + sasl.password() + "\" user_" + sasl.user() + "=\"" + sasl.password() + "\";");
                props.put("listener.name.sasl_ssl.ssl.keystore.type", "PEM");
                props.put("listener.name.sasl_ssl.ssl.keystore.location", sasl.keyStorePem().toAbsolutePath().toString());
            }
            props.put("log.dirs", logs.toString());
            props.put("offsets.topic.replication.factor", "1");
            props.put("offsets.topic.num.partitions", "4");
            props.put("transaction.state.log.replication.factor", "1");
            props.put("transaction.state.log.min.isr", "1");
            props.put("share.coordinator.state.topic.replication.factor", "1");
            props.put("share.coordinator.state.topic.min.isr", "1");
            props.put("group.initial.rebalance.delay.ms", "0");
            props.put("num.partitions", "2");
            props.put("auto.create.topics.enable", "true");
            // images travel in ingest records
            props.put("message.max.bytes", String.valueOf(32 * 1024 * 1024));
            props.put("log.retention.hours", "-1");
            Path propsFile = dataDir.resolve("server.properties");
            try (Writer w = Files.newBufferedWriter(propsFile)) {
                props.store(w, "generated by LocalKafkaBroker");
            }
            if (!Files.exists(logs.resolve("meta.properties"))) {
                StorageTool.execute(new String[] {"format", "-t", CLUSTER_ID, "-c", propsFile.toString()},
                        new PrintStream(PrintStream.nullOutputStream()));
            }
            KafkaRaftServer server = new KafkaRaftServer(new KafkaConfig(props, false), Time.SYSTEM);
            server.startup();
            return new LocalKafkaBroker(server, brokerPort);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (Exception e) {
            throw new IllegalStateException("Kafka broker failed to start: " + e.getMessage(), e);
        }
    }

    /** A producer of string keys and protobuf bytes, as the platform's topics carry. */
    public static KafkaProducer<String, byte[]> producer(String bootstrapServers) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrapServers);
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        return new KafkaProducer<>(p);
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    @Override
    public void close() {
        server.shutdown();
        server.awaitShutdown();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        }
    }

    /**
     * {@code java -jar local-kafka.jar DATA_DIR PORT CONTROLLER_PORT [ADVERTISED_HOST]}: runs until killed.
     * ADVERTISED_HOST: see {@link #start(Path, int, int, SaslSsl, String)} (the chart's kube play test).
     */
    public static void main(String[] args) throws InterruptedException {
        if (args.length != 3 && args.length != 4) {
            System.err.println("usage: LocalKafkaBroker DATA_DIR PORT CONTROLLER_PORT [ADVERTISED_HOST]");
            System.exit(2);
        }
        LocalKafkaBroker broker = start(Path.of(args[0]), Integer.parseInt(args[1]), Integer.parseInt(args[2]), null,
                args.length == 4 ? args[3] : null);
        Runtime.getRuntime().addShutdownHook(new Thread(broker::close));
        System.out.println("kafka=" + (args.length == 4 ? args[3] + ":" + broker.port : broker.bootstrapServers()));
        new CountDownLatch(1).await();
    }
}

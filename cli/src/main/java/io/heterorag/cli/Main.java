package io.heterorag.cli;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.ManagedChannel;
import io.grpc.Grpc;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.MetadataUtils;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The Java side of ./heterorag: ingest, ask and eval against a running stack. Endpoints come from
 * HETERORAG_RETRIEVAL, HETERORAG_GENERATION, HETERORAG_TUNING and HETERORAG_KAFKA (host:port). Exit codes: 0 ok, 1 refused by the
 * service, 2 bad command line or input, 3 stack not reachable.
 */
public final class Main {

    static final String USAGE = """
            usage:
              ingest medpix DIR [--split train]
              ingest corpus FILE.jsonl --corpus book|research|wiki|guideline [--source NAME]
              ingest reports FILE.jsonl|FILE.csv --images DIR [--modality radiology] [--source NAME]
              ingest graph --terms TERMS.tsv --relations RELATIONS.tsv [--source NAME]
                (ingest options: --no-wait --timeout SECONDS --partitions N)
              ask --image PATH [--modality radiology] [--task open_vqa] --question TEXT [--json]
              eval diagnosis --data DIR --split NAME [--json] [--no-image] [--limit N]
              eval reports --data DIR --split NAME [--modality radiology] [--json]
              eval knowledge --data DIR --split NAME [--json]
              eval vqa --data DIR --split NAME|heldout [--limit N] [--no-retrieval] [--blank-image] [--json]
              eval report-generation --data DIR --split NAME [--limit N] [--json]
              train modclip --modality M --data DIR [--epochs N] [--no-promote] [--json]
              train generator --vqa DIR --medpix DIR [--full | --train-examples N --eval-examples N] [--examples DIR] [--epochs N] [--no-promote] [--json]
              train dpo --vqa DIR --medpix DIR [--train-examples N --eval-examples N] [--examples DIR] [--epochs N] [--beta B] [--no-promote] [--json]
              train pairs --out FILE.jsonl [--kind KIND]   (the stored preference pairs as JSONL)
              bench embed [--json] [--requests 256] [--concurrency 8] [--image-bundle DIR]
              bench generate [--bundle DIR] [--json]
              bench vectors --n N --dim D [--queries 100] [--candidates 100] [--json]
              bench ingest [--data DIR] [--split train] [--json]   (on a scratch stack of its own)
              secrets DIR   (a local CA, service certificates and an API key for `up --secure`; kept when present)
              bench load [--concurrency 4] [--duration 30] [--chaos [--chaos-service retrieval]] [--json]""";

    private Main() {
    }

    public static void main(String[] argv) {
        System.exit(run(List.of(argv)));
    }

    static int run(List<String> argv) {
        if (argv.isEmpty()) {
            System.err.println(USAGE);
            return 2;
        }
        String command = argv.get(0);
        List<String> rest = argv.subList(1, argv.size());
        String endpoint = "";
        try {
            switch (command) {
                case "ingest" -> {
                    endpoint = env("HETERORAG_RETRIEVAL", "127.0.0.1:9101");
                    String kafka = env("HETERORAG_KAFKA", "127.0.0.1:19092");
                    return withChannel(endpoint, ch -> {
                        try {
                            return IngestCommand.run(ch, kafka, new Args(rest, java.util.Set.of("no-wait")));
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return 1;
                        }
                    });
                }
                case "ask" -> {
                    endpoint = env("HETERORAG_GENERATION", "127.0.0.1:9103");
                    return withChannel(endpoint, ch -> AskCommand.run(ch, new Args(rest, java.util.Set.of("json"))));
                }
                case "eval" -> {
                    boolean reports = !rest.isEmpty() && (rest.get(0).equals("reports") || rest.get(0).equals("knowledge"));
                    endpoint = reports ? env("HETERORAG_RETRIEVAL", "127.0.0.1:9101") : env("HETERORAG_GENERATION", "127.0.0.1:9103");
                    return withChannel(endpoint, ch -> EvalCommand.run(ch, new Args(rest, java.util.Set.of("json", "no-image", "no-retrieval", "blank-image"))));
                }
                case "train" -> {
                    endpoint = env("HETERORAG_TUNING", "127.0.0.1:9104");
                    return withChannel(endpoint, ch -> {
                        try {
                            return TrainCommand.run(ch, new Args(rest, java.util.Set.of("json", "no-promote", "full")));
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return 1;
                        }
                    });
                }
                case "bench" -> {
                    if (!rest.isEmpty() && rest.get(0).equals("load")) {
                        endpoint = env("HETERORAG_GENERATION", "127.0.0.1:9103");
                        String kafka = env("HETERORAG_KAFKA", "127.0.0.1:19092");
                        return withChannel(endpoint, ch -> {
                            try {
                                return LoadBench.run(ch, kafka, new Args(rest, java.util.Set.of("json", "chaos")));
                            } catch (Args.UsageException | IllegalArgumentException | StatusRuntimeException e) {
                                throw e;
                            } catch (Exception e) {
                                System.err.println("error: benchmark failed: " + e);
                                return 1;
                            }
                        });
                    }
                    if (!rest.isEmpty() && rest.get(0).equals("ingest")) {
                        endpoint = env("HETERORAG_RETRIEVAL", "127.0.0.1:9101");
                        String kafka = env("HETERORAG_KAFKA", "127.0.0.1:19092");
                        String metrics = env("HETERORAG_RETRIEVAL_METRICS", "http://127.0.0.1:8101/q/metrics");
                        return withChannel(endpoint, ch -> {
                            try {
                                return IngestBench.run(ch, kafka, metrics, new Args(rest, java.util.Set.of("json")));
                            } catch (IllegalArgumentException | io.grpc.StatusRuntimeException e) {
                                throw e;
                            } catch (Exception e) {
                                System.err.println("error: benchmark failed: " + e);
                                return 1;
                            }
                        });
                    }
                    try {
                        return BenchCommand.run(new Args(rest, java.util.Set.of("json")));
                    } catch (Args.UsageException | IllegalArgumentException e) {
                        throw e;
                    } catch (Exception e) {
                        System.err.println("error: benchmark failed: " + e);
                        return 1;
                    }
                }
                case "secrets" -> {
                    return SecretsCommand.run(new Args(rest, java.util.Set.of()));
                }
                default -> throw new Args.UsageException("unknown command " + command + "\n" + USAGE);
            }
        } catch (Args.UsageException | IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        } catch (IllegalStateException e) {
            // e.g. Kafka unreachable or a publish that failed
            System.err.println("error: " + e.getMessage());
            return 1;
        } catch (StatusRuntimeException e) {
            Status s = e.getStatus();
            if (s.getCode() == Status.Code.UNAVAILABLE) {
                System.err.println("error: the stack is not running (" + endpoint + " unreachable); start it with ./heterorag up");
                return 3;
            }
            System.err.println("error: " + s.getCode() + ": " + s.getDescription());
            return 1;
        }
    }

    interface ChannelCommand {
        int run(ManagedChannel channel);
    }

    private static int withChannel(String endpoint, ChannelCommand command) {
        ManagedChannel ch = channel(endpoint);
        try {
            return command.run(ch);
        } finally {
            ch.shutdownNow();
            try {
                ch.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Writes figures to $HETERORAG_HOME/DIR/NAME.json (the launcher sets HETERORAG_HOME) and returns the file. */
    static Path writeFigures(String dir, String name, ObjectNode figures) {
        Path file = home().resolve(dir).resolve(name + ".json");
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, figures.toPrettyString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
        return file;
    }

    /** The launcher's state folder: HETERORAG_HOME (tests: the heterorag.home property), else ./.heterorag. */
    /**
     * A channel to a service of the stack: plain text, or TLS trusting HETERORAG_CA with the API key of
     * HETERORAG_API_KEY_FILE as bearer token when the stack is secure (the launcher sets both).
     */
    static ManagedChannel channel(String endpoint) {
        String ca = env("HETERORAG_CA", "");
        if (ca.isBlank()) {
            return ManagedChannelBuilder.forTarget(endpoint).usePlaintext().maxInboundMessageSize(64 << 20).build();
        }
        try {
            ManagedChannelBuilder<?> b = Grpc.newChannelBuilder(endpoint, TlsChannelCredentials.newBuilder().trustManager(new File(ca)).build());
            String keyFile = env("HETERORAG_API_KEY_FILE", "");
            if (!keyFile.isBlank()) {
                Metadata m = new Metadata();
                m.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + Files.readString(Path.of(keyFile)).strip());
                b.intercept(MetadataUtils.newAttachHeadersInterceptor(m));
            }
            return b.maxInboundMessageSize(64 << 20).build();
        } catch (IOException e) {
            throw new IllegalStateException("the stack's CA " + ca + " or API key file cannot be read: " + e.getMessage());
        }
    }

    /**
     * Kafka client settings: the bootstrap servers, plus the properties file named by
     * HETERORAG_KAFKA_CONFIG (e.g. security.protocol=SASL_SSL, sasl.*, ssl.*), as the services take kafka.*.
     */
    static java.util.Properties kafkaProperties(String bootstrap) {
        java.util.Properties p = new java.util.Properties();
        String file = env("HETERORAG_KAFKA_CONFIG", "");
        if (!file.isBlank()) {
            try (var in = Files.newBufferedReader(Path.of(file))) {
                p.load(in);
            } catch (IOException e) {
                throw new IllegalStateException("HETERORAG_KAFKA_CONFIG " + file + " cannot be read: " + e.getMessage());
            }
        }
        p.put("bootstrap.servers", bootstrap);
        return p;
    }

    static Path home() {
        return Path.of(System.getProperty("heterorag.home", env("HETERORAG_HOME", ".heterorag")));
    }

    static String env(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : v;
    }

    /** A proto enum by its lower-case name; the UNSPECIFIED (0) and UNRECOGNIZED values are refused. */
    static <E extends Enum<E>> E protoEnum(Class<E> type, String name, String accepted) {
        try {
            E v = Enum.valueOf(type, name.toUpperCase(Locale.ROOT));
            if (v.ordinal() != 0 && !v.name().equals("UNRECOGNIZED")) {
                return v;
            }
        } catch (IllegalArgumentException ignored) {
            // reported below with the accepted names
        }
        throw new Args.UsageException("unknown " + type.getSimpleName().toLowerCase(Locale.ROOT) + " " + name + " (" + accepted + ")");
    }
}

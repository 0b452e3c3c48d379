package io.heterorag.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import javax.lang.model.element.Modifier;
import javax.tools.JavaCompiler;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

import com.sun.source.tree.AnnotationTree;
import com.sun.source.tree.AssignmentTree;
import com.sun.source.tree.ClassTree;
import com.sun.source.tree.CompilationUnitTree;
import com.sun.source.tree.ExpressionTree;
import com.sun.source.tree.LiteralTree;
import com.sun.source.tree.MethodTree;
import com.sun.source.tree.Tree;
import com.sun.source.util.DocTrees;
import com.sun.source.util.JavacTask;
import com.sun.source.util.TreePath;
import org.junit.jupiter.api.Test;

/**
 * docs/configuration.md is generated from the services' @ConfigMapping interfaces: every key with its
 * type, default and meaning (the method's Javadoc). The interfaces' sources are parsed (no service
 * classes are needed); key names follow SmallRye's rule (camelCase → kebab-case, nested interfaces →
 * dotted groups). -Dconfig.doc.update=true rewrites the file.
 */
class ConfigurationDocTest {

    static final Path ROOT = Path.of("..");
    static final Path DOC = ROOT.resolve("docs/configuration.md");

    /** The mapping interfaces, one per service, and the one of grpc-guard every service runs. */
    static final Map<String, Path> MAPPINGS = mappings();

    private static Map<String, Path> mappings() {
        Map<String, Path> m = new LinkedHashMap<>();
        m.put("retrieval-service", Path.of("retrieval-service/src/main/java/io/heterorag/retrieval/config/RetrievalConfig.java"));
        m.put("querygen-service", Path.of("querygen-service/src/main/java/io/heterorag/querygen/config/QueryGenConfig.java"));
        m.put("generation-service", Path.of("generation-service/src/main/java/io/heterorag/generation/config/GenerationConfig.java"));
        m.put("tuning-service", Path.of("tuning-service/src/main/java/io/heterorag/tuning/config/TuningConfig.java"));
        m.put("all services: grpc-guard", Path.of("grpc-guard/src/main/java/io/heterorag/guard/SecurityConfig.java"));
        return m;
    }

    /** Environment variables the chart sets that are not heterorag.* keys (expanded in quarkus.* settings). */
    static final Set<String> CHART_ENV_NOT_KEYS = Set.of("HETERORAG_TRUST_STORE_PASSWORD");

    record Key(String name, String type, String defaultValue, String meaning, boolean deprecated) {
    }

    record Group(String title, String meaning, List<Key> keys) {
    }

    record Mapping(String service, Path source, String name, String meaning, List<Group> groups) {

        Stream<Key> keys() {
            return groups.stream().flatMap(g -> g.keys().stream());
        }
    }

    @Test
    void theCommittedReferenceIsTheGeneratedOne() throws IOException {
        String generated = render(parseAll());
        if (Boolean.getBoolean("config.doc.update")) {
            Files.writeString(DOC, generated);
        }
        assertTrue(Files.exists(DOC) && generated.equals(Files.readString(DOC)),
                DOC + " is out of date: run mvn -B -o -q -pl cli test -Dtest=ConfigurationDocTest -Dconfig.doc.update=true");
    }

    @Test
    void everyKeyHasAMeaning() throws IOException {
        List<String> bare = parseAll().stream().flatMap(Mapping::keys).filter(k -> k.meaning().isBlank()).map(Key::name).toList();
        assertEquals(List.of(), bare, "keys without Javadoc on their mapping method");
    }

    @Test
    void namesFollowSmallRyesKebabCaseAndNestedGroups() throws IOException {
        Mapping retrieval = parseAll().get(0);
        Map<String, Key> keys = retrieval.keys().collect(Collectors.toMap(Key::name, k -> k));
        assertEquals("8192", keys.get("heterorag.retrieval.max-query-chars").defaultValue());
        assertEquals("0.9", keys.get("heterorag.retrieval.adaptive-k.ratio").defaultValue());
        assertEquals("true", keys.get("heterorag.store.qdrant.int8-quantization").defaultValue());
        assertEquals("integer", keys.get("heterorag.store.qdrant.hnsw-ef-construct").type());
        assertEquals("path (optional)", keys.get("heterorag.models.image-bundle.pathology").type());
        assertEquals("1000", keys.get("heterorag.retrieval.ingest.chunk-size").defaultValue());
        assertEquals("200", keys.get("heterorag.retrieval.ingest.chunk-overlap").defaultValue());
        assertTrue(keys.get("heterorag.retrieval.candidates").deprecated());
        assertTrue(keys.get("heterorag.retrieval.report-candidates").meaning().startsWith("HNSW candidates explored per report"));
    }

    /** A key set in a service's application.properties (any profile) is one its mapping (or grpc-guard's) reads. */
    @Test
    void everyKeyTheServicesSetIsDocumented() throws IOException {
        List<Mapping> all = parseAll();
        Set<String> guard = all.get(all.size() - 1).keys().map(Key::name).collect(Collectors.toSet());
        for (Mapping m : all.subList(0, all.size() - 1)) {
            Set<String> read = m.keys().map(Key::name).collect(Collectors.toCollection(TreeSet::new));
            read.addAll(guard);
            Path props = ROOT.resolve(m.service()).resolve("src/main/resources/application.properties");
            for (String line : Files.readAllLines(props)) {
                String key = line.strip().replaceFirst("^%[a-z,]+\\.", "").split("=", 2)[0].strip();
                if (key.startsWith("heterorag.")) {
                    assertTrue(read.contains(key), props + " sets " + key + ", which " + m.name() + " does not read");
                }
            }
        }
    }

    /** The chart's HETERORAG_* variables and the launcher's -Dheterorag.* flags name keys some service reads. */
    @Test
    void theChartAndTheLauncherSetOnlyKeysThatAreRead() throws IOException {
        List<Mapping> all = parseAll();
        Set<String> keys = all.stream().flatMap(Mapping::keys).map(Key::name).collect(Collectors.toSet());
        Set<String> env = keys.stream().map(k -> k.toUpperCase().replaceAll("[^A-Z0-9]", "_")).collect(Collectors.toSet());
        Set<String> unknown = new TreeSet<>();
        try (Stream<Path> templates = Files.walk(ROOT.resolve("helm/heterorag/templates"))) {
            for (Path t : templates.filter(Files::isRegularFile).toList()) {
                Matcher m = Pattern.compile("\\bHETERORAG_[A-Z0-9_]+").matcher(Files.readString(t));
                while (m.find()) {
                    if (!env.contains(m.group()) && !CHART_ENV_NOT_KEYS.contains(m.group())) {
                        unknown.add(t.getFileName() + ": " + m.group());
                    }
                }
            }
        }
        Matcher d = Pattern.compile("-D(heterorag\\.[a-z0-9.-]+)=").matcher(Files.readString(ROOT.resolve("heterorag")));
        while (d.find()) {
            if (!keys.contains(d.group(1))) {
                unknown.add("heterorag launcher: " + d.group(1));
            }
        }
        assertEquals(Set.of(), unknown, "set, but no mapping reads them");
    }

    // ---- the generator ----

    static List<Mapping> parseAll() throws IOException {
        List<Mapping> out = new ArrayList<>();
        for (Map.Entry<String, Path> e : MAPPINGS.entrySet()) {
            out.add(parse(e.getKey(), e.getValue()));
        }
        return out;
    }

    static Mapping parse(String service, Path source) throws IOException {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        try (StandardJavaFileManager files = javac.getStandardFileManager(null, null, null)) {
            JavacTask task = (JavacTask) javac.getTask(null, files, null, List.of("-proc:none"), null,
                    files.getJavaFileObjects(ROOT.resolve(source)));
            CompilationUnitTree unit = task.parse().iterator().next();
            DocTrees docs = DocTrees.instance(task);
            ClassTree root = (ClassTree) unit.getTypeDecls().get(0);
            Map<String, ClassTree> nested = new LinkedHashMap<>();
            for (Tree member : root.getMembers()) {
                if (member instanceof ClassTree c) {
                    nested.put(c.getSimpleName().toString(), c);
                }
            }
            String prefix = annotation(root.getModifiers().getAnnotations(), "ConfigMapping", "prefix");
            Parser p = new Parser(unit, docs, nested);
            List<Group> groups = new ArrayList<>();
            List<Key> direct = new ArrayList<>();
            for (MethodTree m : p.methods(root)) {
                String name = prefix + "." + kebab(m.getName().toString());
                ClassTree group = nested.get(m.getReturnType().toString());
                if (group != null) {
                    List<Key> keys = new ArrayList<>();
                    p.collect(group, name, keys);
                    groups.add(new Group(name + ".*", p.doc(m), keys));
                } else {
                    direct.add(p.key(m, name));
                }
            }
            if (!direct.isEmpty()) {
                groups.add(0, new Group(prefix + ".*", "", direct));
            }
            return new Mapping(service, source, root.getSimpleName().toString(), p.doc(root), groups);
        }
    }

    private record Parser(CompilationUnitTree unit, DocTrees docs, Map<String, ClassTree> nested) {

        /** The property methods: abstract, so default and static helpers are not keys. */
        List<MethodTree> methods(ClassTree c) {
            return c.getMembers().stream().filter(t -> t instanceof MethodTree).map(t -> (MethodTree) t)
                    .filter(m -> m.getBody() == null && !m.getModifiers().getFlags().contains(Modifier.STATIC)).toList();
        }

        void collect(ClassTree c, String prefix, List<Key> out) {
            for (MethodTree m : methods(c)) {
                String name = prefix + "." + kebab(m.getName().toString());
                ClassTree group = nested.get(m.getReturnType().toString());
                if (group != null) {
                    collect(group, name, out);
                } else {
                    out.add(key(m, name));
                }
            }
        }

        Key key(MethodTree m, String name) {
            List<? extends AnnotationTree> a = m.getModifiers().getAnnotations();
            boolean deprecated = a.stream().anyMatch(x -> x.getAnnotationType().toString().equals("Deprecated"));
            return new Key(name, type(m.getReturnType().toString()), annotation(a, "WithDefault", "value"), doc(m), deprecated);
        }

        String doc(Tree t) {
            String raw = docs.getDocComment(TreePath.getPath(unit, t));
            if (raw == null) {
                return "";
            }
            return raw.replaceAll("\\{@(?:code|link) ([^}]*)}", "$1").replaceAll("\\s+", " ").strip();
        }
    }

    /** SmallRye's default naming: maxQueryChars → max-query-chars. */
    static String kebab(String method) {
        return method.replaceAll("([A-Z])", "-$1").toLowerCase();
    }

    static String type(String java) {
        Matcher optional = Pattern.compile("Optional<(.+)>").matcher(java);
        if (optional.matches()) {
            return type(optional.group(1)) + " (optional)";
        }
        return switch (java) {
            case "int", "Integer", "long", "Long" -> "integer";
            case "double", "Double" -> "number";
            case "boolean", "Boolean" -> "boolean";
            case "String" -> "string";
            case "Path" -> "path";
            case "Duration" -> "duration (5s, 1m, PT5S)";
            default -> java;
        };
    }

    /** A string annotation element of the named annotation, or null. */
    static String annotation(List<? extends AnnotationTree> annotations, String type, String element) {
        for (AnnotationTree a : annotations) {
            if (!a.getAnnotationType().toString().equals(type)) {
                continue;
            }
            for (ExpressionTree arg : a.getArguments()) {
                ExpressionTree value = arg instanceof AssignmentTree as ? as.getExpression() : arg;
                String name = arg instanceof AssignmentTree as ? as.getVariable().toString() : "value";
                if (name.equals(element) && value instanceof LiteralTree l) {
                    return String.valueOf(l.getValue());
                }
            }
        }
        return null;
    }

    // ---- the document ----

    static String render(List<Mapping> mappings) {
        StringBuilder md = new StringBuilder();
        md.append("""
                # Configuration reference

                <!-- Generated from the @ConfigMapping interfaces by cli's ConfigurationDocTest. Do not edit: change the
                     interface (its Javadoc is the meaning below), then run
                     mvn -B -o -q -pl cli test -Dtest=ConfigurationDocTest -Dconfig.doc.update=true -->

                Every `heterorag.*` key the services read, by service: its type, its default and what it means.
                Each service reads its keys through one `@ConfigMapping` interface (named below); keys shared by
                several services (`heterorag.models.*`, `heterorag.security.*`) are listed under each. Quarkus' own
                keys (`quarkus.*`: ports, gRPC clients, TLS, datasource) and the Kafka channels (`kafka.*`,
                `mp.messaging.*`) are documented by Quarkus and set in each service's `application.properties`.

                A key is set in `application.properties`, as a system property (`-Dheterorag.retrieval.report-k=8`)
                or as an environment variable: upper case, every character other than a letter or digit an
                underscore (`HETERORAG_RETRIEVAL_REPORT_K=8`; the chart's ConfigMaps use this form). A key without
                a default and not marked optional must be set, or the service does not start; a value of the wrong
                type stops the start too, naming the key.

                """);
        for (Mapping m : mappings) {
            md.append("## ").append(m.service()).append(" (`").append(m.name()).append("`)\n\n");
            md.append("Source: `").append(m.source().toString().replace('\\', '/')).append("`\n\n");
            for (Group g : m.groups()) {
                md.append("### `").append(g.title()).append("`");
                md.append(g.meaning().isEmpty() ? "" : " — " + g.meaning().replaceFirst("^heterorag\\.[a-z.-]+\\.\\*: ", ""));
                md.append("\n\n| Key | Type | Default | Meaning |\n|---|---|---|---|\n");
                for (Key k : g.keys()) {
                    md.append("| `").append(k.name()).append("`").append(k.deprecated() ? " (deprecated)" : "").append(" | ")
                            .append(k.type()).append(" | ").append(defaultText(k)).append(" | ")
                            .append(k.meaning().replace("|", "\\|")).append(" |\n");
                }
                md.append("\n");
            }
        }
        return md.toString().strip() + "\n";
    }

    static String defaultText(Key k) {
        if (k.defaultValue() == null) {
            return k.type().endsWith("(optional)") ? "unset" : "**required**";
        }
        Matcher alias = Pattern.compile("\\$\\{([^:}]+):([^}]*)}").matcher(k.defaultValue());
        if (alias.matches()) {
            return "`" + alias.group(2) + "` (or `" + alias.group(1) + "` where set)";
        }
        return k.defaultValue().isEmpty() ? "empty" : "`" + k.defaultValue().replace("|", "\\|") + "`";
    }
}

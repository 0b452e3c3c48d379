package io.heterorag.proto.json;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.models.Components;
import org.eclipse.microprofile.openapi.models.OpenAPI;
import org.eclipse.microprofile.openapi.models.media.Schema;

/**
 * The heterorag.v1 messages as OpenAPI schemas of their protobuf-JSON form (proto field names), so the
 * REST transports' OpenAPI document describes the same contract as the .proto files, field by field.
 * Descriptions are the .proto comments (the proto jar carries the sources): the comment lines just
 * above a field, or above the field it is grouped with (no blank line between). One source, no copy.
 */
public final class ProtoSchemas {

    private static final String[] SOURCES = {"common", "clinical_rag", "tuning", "retrieval", "querygen", "model_bundle"};
    private static final Pattern BLOCK = Pattern.compile("^\\s*(message|enum|oneof)\\s+(\\w+)\\s*\\{");
    private static final Pattern FIELD = Pattern.compile("^\\s*(?:repeated\\s+|optional\\s+)?(?:map<[^>]+>|[\\w.]+)\\s+(\\w+)\\s*=\\s*\\d+");
    private static final Pattern VALUE = Pattern.compile("^\\s*([A-Z][A-Z0-9_]*)\\s*=\\s*-?\\d+");

    /** The description of a field its .proto leaves uncommented (the REST tests refuse it). */
    public static final String UNDOCUMENTED = "(no comment in the .proto)";

    private static volatile Map<String, String> comments;

    private ProtoSchemas() {
    }

    /** Adds a schema for each root message and every message and enum it reaches to components.schemas. */
    public static void addTo(OpenAPI openApi, Descriptor... roots) {
        Components components = openApi.getComponents() == null ? OASFactory.createComponents() : openApi.getComponents();
        openApi.setComponents(components);
        for (Descriptor d : roots) {
            add(components, d);
        }
    }

    /** The .proto comment of a message, enum, field ("Message.field") or enum value ("Enum.VALUE"); empty when none. */
    public static String comment(String qualifiedName) {
        return comments().getOrDefault(qualifiedName, "");
    }

    private static void add(Components components, Descriptor d) {
        if (components.getSchemas() != null && components.getSchemas().containsKey(d.getName())) {
            return;
        }
        Schema s = OASFactory.createSchema().type(java.util.List.of(Schema.SchemaType.OBJECT)).description(described(d.getName()));
        components.addSchema(d.getName(), s); // before the fields: messages may refer to each other
        for (FieldDescriptor f : d.getFields()) {
            String description = comment(d.getName() + "." + f.getName());
            s.addProperty(f.getName(), field(components, f).description(description.isEmpty() ? UNDOCUMENTED : description));
        }
    }

    private static Schema field(Components components, FieldDescriptor f) {
        if (f.isMapField()) {
            return OASFactory.createSchema().type(java.util.List.of(Schema.SchemaType.OBJECT))
                    .additionalPropertiesSchema(single(components, f.getMessageType().findFieldByName("value")));
        }
        Schema one = single(components, f);
        return f.isRepeated() ? OASFactory.createSchema().type(java.util.List.of(Schema.SchemaType.ARRAY)).items(one) : one;
    }

    private static Schema single(Components components, FieldDescriptor f) {
        Schema s = OASFactory.createSchema();
        return switch (f.getJavaType()) {
            case INT -> s.type(java.util.List.of(Schema.SchemaType.INTEGER)).format("int32");
            // protobuf JSON writes 64-bit integers as strings
            case LONG -> s.type(java.util.List.of(Schema.SchemaType.STRING)).format("int64");
            case FLOAT -> s.type(java.util.List.of(Schema.SchemaType.NUMBER)).format("float");
            case DOUBLE -> s.type(java.util.List.of(Schema.SchemaType.NUMBER)).format("double");
            case BOOLEAN -> s.type(java.util.List.of(Schema.SchemaType.BOOLEAN));
            case STRING -> s.type(java.util.List.of(Schema.SchemaType.STRING));
            case BYTE_STRING -> s.type(java.util.List.of(Schema.SchemaType.STRING)).format("byte");
            case ENUM -> {
                addEnum(components, f.getEnumType());
                yield s.ref(f.getEnumType().getName());
            }
            case MESSAGE -> {
                add(components, f.getMessageType());
                yield s.ref(f.getMessageType().getName());
            }
        };
    }

    private static void addEnum(Components components, EnumDescriptor e) {
        if (components.getSchemas() != null && components.getSchemas().containsKey(e.getName())) {
            return;
        }
        StringBuilder description = new StringBuilder(described(e.getName())).append(" Values:");
        Schema s = OASFactory.createSchema().type(java.util.List.of(Schema.SchemaType.STRING));
        for (EnumValueDescriptor v : e.getValues()) {
            s.addEnumeration(v.getName());
            String c = comment(e.getName() + "." + v.getName());
            description.append("\n- ").append(v.getName()).append(c.isEmpty() ? "" : ": " + c);
        }
        components.addSchema(e.getName(), s.description(description.toString()));
    }

    private static String described(String name) {
        String c = comment(name);
        return c.isEmpty() ? "heterorag.v1." + name + " " + UNDOCUMENTED : c;
    }

    private static Map<String, String> comments() {
        if (comments == null) {
            Map<String, String> m = new HashMap<>();
            for (String file : SOURCES) {
                try (InputStream in = ProtoSchemas.class.getClassLoader().getResourceAsStream("heterorag/v1/" + file + ".proto")) {
                    if (in != null) {
                        read(new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)), m);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            comments = m;
        }
        return comments;
    }

    private static void read(BufferedReader in, Map<String, String> out) throws IOException {
        Deque<String> blocks = new ArrayDeque<>(); // enclosing message/enum names ("" for oneof: fields belong to the message)
        StringBuilder pending = new StringBuilder();
        for (String line; (line = in.readLine()) != null;) {
            String t = line.strip();
            if (t.startsWith("//")) {
                pending.append(pending.isEmpty() ? "" : " ").append(t.substring(2).strip());
                continue;
            }
            String owner = blocks.stream().filter(b -> !b.isEmpty()).findFirst().orElse(null);
            Matcher block = BLOCK.matcher(t);
            Matcher value = VALUE.matcher(t);
            Matcher field = FIELD.matcher(t);
            if (block.find()) {
                if (!block.group(1).equals("oneof")) {
                    out.put(block.group(2), pending.toString());
                }
                blocks.push(block.group(1).equals("oneof") ? "" : block.group(2));
            } else if (owner != null && value.find()) {
                out.put(owner + "." + value.group(1), pending.toString());
            } else if (owner != null && field.find()) {
                out.put(owner + "." + field.group(1), pending.toString());
            } else if (t.startsWith("}")) {
                blocks.poll();
            }
            pending.setLength(0);
        }
    }
}

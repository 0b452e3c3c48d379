package io.heterorag.model.generation;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and writes the MQG's tagged output ({@link TaggedQueryGrammar}). Parsing is lenient about
 * whitespace around the tag syntax (decoded WordPiece text reads "&lt; research &gt; … &lt; / research &gt;")
 * and strict about everything else: tags known, in order, each at most once, properly closed, nothing
 * between them; an empty tag (the method's "do not search") or a missing one skips that corpus.
 */
public final class TaggedQueries {

    /** One query: the tag (a {@link TaggedQueryGrammar#TAGS} name) and its text (graph: "term,relation"). */
    public record Query(String tag, String text) {
    }

    private static final Pattern OPEN = Pattern.compile("\\G\\s*<\\s*([a-zA-Z]+)\\s*>");
    private static final Pattern REST = Pattern.compile("\\G\\s*$");

    private TaggedQueries() {
    }

    /** The queries of a tagged output, in tag order. Throws IllegalArgumentException naming what is wrong. */
    public static List<Query> parse(String text) {
        List<Query> out = new ArrayList<>();
        int last = -1;
        int pos = 0;
        while (!REST.matcher(text).region(pos, text.length()).find()) {
            Matcher open = OPEN.matcher(text).region(pos, text.length());
            if (!open.find()) {
                throw new IllegalArgumentException("expected an opening tag at character " + pos);
            }
            String tag = open.group(1).toLowerCase(Locale.ROOT);
            int index = TaggedQueryGrammar.TAGS.indexOf(tag);
            if (index < 0) {
                throw new IllegalArgumentException("unknown tag <" + tag + ">");
            }
            if (index <= last) {
                throw new IllegalArgumentException("tag <" + tag + "> out of order or repeated");
            }
            last = index;
            Matcher close = Pattern.compile("<\\s*/\\s*" + tag + "\\s*>", Pattern.CASE_INSENSITIVE).matcher(text);
            if (!close.find(open.end())) {
                throw new IllegalArgumentException("tag <" + tag + "> is not closed");
            }
            String content = text.substring(open.end(), close.start());
            if (content.indexOf('<') >= 0 || content.indexOf('>') >= 0) {
                throw new IllegalArgumentException("tag <" + tag + "> holds tag characters");
            }
            String q = content.strip().replaceAll("\\s+", " ");
            if (!q.isEmpty()) {
                if (index == TaggedQueryGrammar.GRAPH) {
                    String[] parts = q.split(",", -1);
                    if (parts.length != 2 || parts[0].isBlank() || parts[1].isBlank()) {
                        throw new IllegalArgumentException("the graph query is not 'term,relation'");
                    }
                    q = parts[0].strip() + "," + parts[1].strip();
                }
                out.add(new Query(tag, q));
            }
            pos = close.end();
        }
        return out;
    }

    /** The canonical tagged form: the tags of the queries given, in order, nothing between them. */
    public static String render(List<Query> queries) {
        List<Query> sorted = new ArrayList<>(queries);
        sorted.sort((a, b) -> Integer.compare(TaggedQueryGrammar.TAGS.indexOf(a.tag()), TaggedQueryGrammar.TAGS.indexOf(b.tag())));
        StringBuilder s = new StringBuilder();
        for (Query q : sorted) {
            if (!TaggedQueryGrammar.TAGS.contains(q.tag())) {
                throw new IllegalArgumentException("unknown tag " + q.tag());
            }
            s.append('<').append(q.tag()).append('>').append(q.text().strip()).append("</").append(q.tag()).append('>');
        }
        return s.toString();
    }
}

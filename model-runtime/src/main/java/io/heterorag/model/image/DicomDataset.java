package io.heterorag.model.image;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The top-level elements of a DICOM Part 10 file (PS3.10 7.1) that an image needs, parsed from the bytes:
 * explicit or implicit VR, little or big endian, deflated (PS3.5 A.5), sequences skipped, and the pixel
 * data either native or encapsulated (PS3.5 A.4: a basic offset table item, then one item per fragment).
 * Everything past the pixel data is ignored. Any length that runs past the end is refused.
 */
final class DicomDataset {

    static final String IMPLICIT_LE = "1.2.840.10008.1.2";
    static final String EXPLICIT_BE = "1.2.840.10008.1.2.2";
    static final String DEFLATED_LE = "1.2.840.10008.1.2.1.99";
    static final int PIXEL_DATA = 0x7FE00010;
    private static final int ITEM = 0xFFFEE000;
    private static final int ITEM_END = 0xFFFEE00D;
    private static final int SEQUENCE_END = 0xFFFEE0DD;
    private static final long UNDEFINED = 0xFFFFFFFFL;
    /** Explicit-VR value representations with a 2-byte reserved field and a 4-byte length (PS3.5 7.1.2). */
    private static final Set<String> LONG_VRS = Set.of("OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV");
    /** A deflated data set may not inflate beyond this (a decompression bomb is refused, not inflated). */
    static final int MAX_INFLATED_BYTES = 256 * 1024 * 1024;

    final String transferSyntax;
    final ByteOrder order;
    private final Map<Integer, byte[]> values = new HashMap<>();
    /** Native pixel data, or null when encapsulated. */
    byte[] nativePixels;
    /** Encapsulated pixel data: the fragments, in order, without the offset table item. */
    final List<byte[]> fragments = new ArrayList<>();
    /** For each fragment, the offset of its item tag from the first fragment's item tag (what the offset table counts). */
    final List<Long> fragmentOffsets = new ArrayList<>();
    /** The basic offset table: the frames' first-fragment offsets; empty when the file has none. */
    final List<Long> frameOffsets = new ArrayList<>();
    boolean encapsulated;

    private final byte[] d;
    private final ByteBuffer b;
    private boolean explicit;

    private DicomDataset(String transferSyntax, byte[] body, boolean explicit, ByteOrder order) {
        this.transferSyntax = transferSyntax;
        this.d = body;
        this.b = ByteBuffer.wrap(body).order(order);
        this.explicit = explicit;
        this.order = order;
    }

    /** Parses a Part 10 file: "DICM" at 128, the meta group (always explicit VR little endian), then the data set. */
    static DicomDataset parse(byte[] file) {
        String syntax = DicomReader.transferSyntax(file);
        if (syntax == null) {
            throw new InvalidImageException("DICOM file without a transfer syntax in its meta header");
        }
        int start = endOfMetaGroup(file);
        byte[] body = java.util.Arrays.copyOfRange(file, start, file.length);
        boolean explicit = !syntax.equals(IMPLICIT_LE);
        ByteOrder order = syntax.equals(EXPLICIT_BE) ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        if (syntax.equals(DEFLATED_LE)) {
            body = inflate(body);
        }
        DicomDataset ds = new DicomDataset(syntax, body, explicit, order);
        ds.readTopLevel();
        return ds;
    }

    private static int endOfMetaGroup(byte[] d) {
        ByteBuffer b = ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN);
        int pos = 132;
        while (pos + 8 <= d.length && (b.getShort(pos) & 0xffff) == 0x0002) {
            String vr = new String(d, pos + 4, 2, StandardCharsets.US_ASCII);
            long length = LONG_VRS.contains(vr) ? b.getInt(pos + 8) & 0xffffffffL : b.getShort(pos + 6) & 0xffff;
            pos += (LONG_VRS.contains(vr) ? 12 : 8) + (int) Math.min(length, d.length);
        }
        return Math.min(pos, d.length);
    }

    /** A deflated data set is raw deflate (RFC 1951, no zlib header), bounded by {@link #MAX_INFLATED_BYTES}. */
    static byte[] inflate(byte[] deflated) {
        Inflater inflater = new Inflater(true);
        try {
            inflater.setInput(deflated);
            ByteArrayOutputStream out = new ByteArrayOutputStream(deflated.length * 4);
            byte[] buf = new byte[64 * 1024];
            while (!inflater.finished()) {
                int n = inflater.inflate(buf);
                if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    break; // the stream ended early: parse what came out, lengths are checked there
                }
                out.write(buf, 0, n);
                if (out.size() > MAX_INFLATED_BYTES) {
                    throw new InvalidImageException("deflated DICOM data set inflates beyond the limit of " + MAX_INFLATED_BYTES + " bytes");
                }
            }
            return out.toByteArray();
        } catch (DataFormatException e) {
            throw new InvalidImageException("corrupt deflated DICOM data set: " + e.getMessage());
        } finally {
            inflater.end();
        }
    }

    private int tag(int pos) {
        return (b.getShort(pos) & 0xffff) << 16 | b.getShort(pos + 2) & 0xffff;
    }

    private static String hex(int tag) {
        return String.format("(%04X,%04X)", tag >>> 16, tag & 0xffff);
    }

    private void need(int pos, long bytes, int tag) {
        if (pos + bytes > d.length) {
            throw new InvalidImageException("DICOM element " + hex(tag) + " runs past the end of the file (cut short?)");
        }
    }

    /** One element header at pos: its tag, VR (explicit only, else null), value length and header size. */
    private record Header(int tag, String vr, long length, int size) {
    }

    private Header header(int pos) {
        need(pos, 8, 0);
        int tag = tag(pos);
        // item and delimitation tags have no VR, even in explicit-VR syntaxes (PS3.5 7.5)
        if (!explicit || (tag >>> 16) == 0xFFFE) {
            return new Header(tag, null, b.getInt(pos + 4) & 0xffffffffL, 8);
        }
        String vr = new String(d, pos + 4, 2, StandardCharsets.US_ASCII);
        if (LONG_VRS.contains(vr)) {
            need(pos, 12, tag);
            return new Header(tag, vr, b.getInt(pos + 8) & 0xffffffffL, 12);
        }
        return new Header(tag, vr, b.getShort(pos + 6) & 0xffff, 8);
    }

    private void readTopLevel() {
        int pos = 0;
        if (explicit && d.length >= 6 && !(Character.isUpperCase(d[4]) && Character.isUpperCase(d[5]))) {
            explicit = false; // written implicit under an explicit syntax: pydicom reads such files the same way
        }
        while (pos + 8 <= d.length) {
            Header h = header(pos);
            pos += h.size();
            if (h.tag() == PIXEL_DATA) {
                readPixelData(pos, h);
                return;
            }
            if (h.length() == UNDEFINED) {
                boolean wasExplicit = explicit;
                explicit = explicit && !"UN".equals(h.vr()); // an undefined-length UN holds implicit VR (PS3.5 6.2.2)
                pos = skipUndefined(pos, h.tag());
                explicit = wasExplicit;
                continue;
            }
            need(pos, h.length(), h.tag());
            if (h.length() <= 1024) { // attributes an image needs are short; long ones are not kept
                values.put(h.tag(), java.util.Arrays.copyOfRange(d, pos, pos + (int) h.length()));
            }
            pos += (int) h.length();
        }
    }

    /** Skips an undefined-length sequence (or item contents) up to and past its delimiter; returns the next position. */
    private int skipUndefined(int pos, int owner) {
        while (true) {
            need(pos, 8, owner);
            Header h = header(pos);
            pos += h.size();
            if (h.tag() == SEQUENCE_END || h.tag() == ITEM_END) {
                return pos;
            }
            if (h.length() == UNDEFINED) {
                pos = skipUndefined(pos, h.tag());
            } else {
                need(pos, h.length(), h.tag());
                pos += (int) h.length();
            }
        }
    }

    private void readPixelData(int pos, Header h) {
        if (h.length() != UNDEFINED) {
            // native: the file may be cut short; DicomPixels compares what is here with what the image needs
            nativePixels = java.util.Arrays.copyOfRange(d, pos, (int) Math.min(d.length, pos + h.length()));
            return;
        }
        encapsulated = true;
        boolean first = true;
        int firstFragment = -1;
        while (true) {
            if (pos + 8 > d.length) {
                throw new InvalidImageException("encapsulated DICOM pixel data is cut short: no sequence delimiter");
            }
            int tag = tag(pos);
            long length = b.getInt(pos + 4) & 0xffffffffL;
            if (tag == SEQUENCE_END) {
                return;
            }
            if (tag != ITEM || length == UNDEFINED) {
                throw new InvalidImageException("corrupt encapsulated DICOM pixel data: " + hex(tag) + " where a fragment item belongs");
            }
            need(pos + 8, length, PIXEL_DATA);
            if (first) {
                for (int i = 0; i + 4 <= length; i += 4) {
                    frameOffsets.add(b.getInt(pos + 8 + i) & 0xffffffffL);
                }
                first = false;
            } else {
                if (firstFragment < 0) {
                    firstFragment = pos;
                }
                fragmentOffsets.add((long) pos - firstFragment);
                fragments.add(java.util.Arrays.copyOfRange(d, pos + 8, pos + 8 + (int) length));
            }
            pos += 8 + (int) length;
        }
    }

    /** The value of a top-level text element (trailing spaces and NULs removed), or null. */
    String string(int tag) {
        byte[] v = values.get(tag);
        return v == null ? null : new String(v, StandardCharsets.ISO_8859_1).replace("\0", "").strip();
    }

    /** The value of a top-level US element, or the fallback. */
    int unsignedShort(int tag, int fallback) {
        byte[] v = values.get(tag);
        return v == null || v.length < 2 ? fallback : ByteBuffer.wrap(v).order(order).getShort() & 0xffff;
    }

    /** The value of a top-level IS element, or the fallback. */
    int integerString(int tag, int fallback) {
        String s = string(tag);
        try {
            return s == null || s.isBlank() ? fallback : Integer.parseInt(s.split("\\\\")[0].strip());
        } catch (NumberFormatException e) {
            throw new InvalidImageException("DICOM element " + hex(tag) + " is not an integer: " + s.length() + " characters");
        }
    }
}
